"""Kept PowerOcean reports -> metric families, at scrape time.

A system is up while a periodic message kind (heartbeat, energy stream, packs) is
fresh. Values of a periodic kind or entry disappear once it is silent for
``stale_after``; values of a ``lasting`` kind (sent on change) hold while the system
is up; all of a system's values disappear when it is down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from prometheus_client.core import Metric

from exporter.mapping import Kind
from exporter.metrics import FamilyBuilder, PowerOceanHealth, powerocean_health
from exporter.powerocean.cache import MessageCache, Reported, SystemState
from exporter.powerocean.codec import Value
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.schema import PowerOceanChannel, PowerOceanMapping, Route


class ConnectionState(Protocol):
    @property
    def connected(self) -> bool: ...

    connects: int


class PowerOceanCollector:
    """Exports every configured system; ``devices`` maps each serial to its name."""

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        ingest: Ingest,
        connection: ConnectionState | None,
        *,
        devices: Mapping[str, str],
        stale_after: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._ingest = ingest
        self._connection = connection
        self._devices = dict(devices)
        self._stale_after = stale_after
        self._clock = clock
        self._routes = mapping.routes
        entry_schemas = {r.schema for r in mapping.routes.values() if r.entry_label}
        self._system_channels = [
            (channel, mapping.kinds_of(channel.address.message))
            for channel in mapping.channels
            if channel.address.message not in entry_schemas
        ]
        #: Each route with entries, and the channels read from its entries.
        self._entry_channels = [
            (route, [c for c in mapping.channels if c.address.message == route.schema])
            for route in mapping.routes.values()
            if route.entry_label
        ]
        self._entry_labels = sorted({route.entry_label for route, _ in self._entry_channels})

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        systems = self._cache.snapshot()
        system_families = FamilyBuilder(("serial",))
        entry_families = {label: FamilyBuilder(("serial", label)) for label in self._entry_labels}
        dropped, received = self._ingest.counts()
        health = PowerOceanHealth(
            connected=self._connection is not None and self._connection.connected,
            connects=self._connection.connects if self._connection is not None else 0,
            dropped=dropped,
            received=received,
            names=self._devices,
        )
        for serial in sorted(self._devices):
            system = systems.get(serial, SystemState())
            health.last_message.update(((serial, k), r.at) for k, r in system.kinds.items())
            shown = {
                kind: reported
                for kind, reported in system.kinds.items()
                if self._routes[kind].lasting or self._fresh(reported, now)
            }
            health.up[serial] = any(not self._routes[kind].lasting for kind in shown)
            if not health.up[serial]:
                continue
            for channel, routes in self._system_channels:
                system_families.add(channel, _latest(shown, routes, channel), (serial,))
            for route, channels in self._entry_channels:
                entries = system.entries.get(route.name, {})
                fresh = {
                    name: reported
                    for name, reported in entries.items()
                    if route.lasting or self._fresh(reported, now)
                }
                if route.entry_label == "pack":
                    health.last_pack_message.update(((serial, p), r.at) for p, r in fresh.items())
                families = entry_families[route.entry_label]
                for name, reported in fresh.items():
                    for channel in channels:
                        families.add(channel, _value(reported, route, channel), (serial, name))
        yield from system_families.families()
        for families in entry_families.values():
            yield from families.families()
        yield from powerocean_health(health)

    def _fresh(self, reported: Reported, now: float) -> bool:
        return now - reported.at <= self._stale_after


def _latest(
    shown: Mapping[str, Reported], routes: tuple[Route, ...], channel: PowerOceanChannel
) -> Value | None:
    """The channel's value from whichever of its message kinds reported it last."""
    best: tuple[Reported, Route] | None = None
    for route in routes:
        reported = shown.get(route.name)
        if reported is None or (best is not None and reported.at <= best[0].at):
            continue
        if route.complete or channel.address.path in reported.fields:
            best = (reported, route)
    return None if best is None else _value(*best, channel)


def _value(reported: Reported, route: Route, channel: PowerOceanChannel) -> Value | None:
    """A kept value; a scalar a complete message left out is 0."""
    value = reported.fields.get(channel.address.path)
    if value is None and route.complete and channel.kind is not Kind.ARRAY:
        return 0
    return value

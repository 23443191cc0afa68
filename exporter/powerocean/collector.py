"""Cached PowerOcean messages -> metric families, at scrape time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from prometheus_client.core import Metric

from exporter.metrics import FamilyBuilder, PowerOceanHealth, powerocean_health
from exporter.powerocean.cache import Ingest, MessageCache, Received, SystemMessages
from exporter.powerocean.device import PowerOceanMapping, read_field


class ConnectionState(Protocol):
    @property
    def connected(self) -> bool: ...

    connects: int


class PowerOceanCollector:
    """Exports every configured system; a message older than ``stale_after`` is not shown."""

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        ingest: Ingest,
        connection: ConnectionState | None,
        *,
        devices: Sequence[str],
        stale_after: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._mapping = mapping
        self._cache = cache
        self._ingest = ingest
        self._connection = connection
        self._devices = tuple(devices)
        self._stale_after = stale_after
        self._clock = clock
        self._channels = {
            route.name: mapping.channels_of(route.name) for route in mapping.routes.values()
        }

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        systems = self._cache.snapshot()
        system_families = FamilyBuilder(("serial",))
        pack_families = FamilyBuilder(("serial", "pack"))
        dropped, received = self._ingest.counts()
        health = PowerOceanHealth(
            connected=self._connection is not None and self._connection.connected,
            connects=self._connection.connects if self._connection is not None else 0,
            dropped=dropped,
            received=received,
        )
        for serial in sorted(set(self._devices) | systems.keys()):
            system = systems.get(serial, SystemMessages())
            up = False
            for name, received in system.messages.items():
                health.last_message[(serial, name)] = received.at
                up |= self._export(received, now, system_families, (serial,))
            for pack, received in system.packs.items():
                health.last_pack_message[(serial, pack)] = received.at
                up |= self._export(received, now, pack_families, (serial, pack))
            health.up[serial] = up
        yield from system_families.families()
        yield from pack_families.families()
        yield from powerocean_health(health)

    def _export(
        self, received: Received, now: float, families: FamilyBuilder, labels: tuple[str, ...]
    ) -> bool:
        """Add a fresh message's channels; False when it is stale."""
        if now - received.at > self._stale_after:
            return False
        for channel in self._channels[received.name]:
            families.add(channel, read_field(received.message, channel.address.path), labels)
        return True

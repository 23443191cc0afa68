"""Kept PowerOcean reports -> metric families, at scrape time.

A system is up while a periodic message (heartbeat, energy stream, packs) is
fresh. Values of a periodic message or entry disappear once it is silent for
``stale_after``; values of a ``lasting`` message (sent on change) hold while the system
is up; all of a system's values disappear when it is down.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from exporter.exposition import AnyFamily
from exporter.metrics import ChannelFamilies, Families, HealthMetric
from exporter.model import Kind
from exporter.powerocean.cache import MessageCache, Reported, SystemState
from exporter.powerocean.channels import (
    INTEGRATED_ENERGY,
    FieldPath,
    PowerOceanChannel,
    PowerOceanMapping,
)
from exporter.powerocean.codec import Value
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import CacheWriter
from exporter.powerocean.quota import QUOTA_ALL, QUOTA_PACKS, QUOTA_STREAM

if TYPE_CHECKING:  # the transport is not needed to export what the cache holds
    from exporter.powerocean.connection import PowerOceanConnection

_health = functools.partial(HealthMetric, "powerocean")
POWEROCEAN_SYSTEM = _health(
    "powerocean_system_info",
    Kind.INFO,
    "A configured PowerOcean system, its name (the serial when none is configured) and its"
    ' model ("unknown" until a frame or the serial tells it).',
    ("serial", "name", "model"),
)
POWEROCEAN_UP = _health(
    "powerocean_up",
    Kind.GAUGE,
    "1 when the system sent a message within stale_after_seconds, 0 otherwise.",
    ("serial",),
)
POWEROCEAN_LAST_MESSAGE = _health(
    "powerocean_last_message_timestamp_seconds",
    Kind.GAUGE,
    "Unix time each message last arrived from the system.",
    ("serial", "message"),
    "seconds",
)
POWEROCEAN_PACK_LAST_MESSAGE = _health(
    "powerocean_battery_pack_last_message_timestamp_seconds",
    Kind.GAUGE,
    "Unix time the last report of the battery pack arrived.",
    ("serial", "pack"),
    "seconds",
)
POWEROCEAN_MESSAGES_RECEIVED = _health(
    "powerocean_messages_received_total",
    Kind.COUNTER,
    "Messages decoded into the cache, by system and message.",
    ("serial", "message"),
)
POWEROCEAN_DECODE_ERRORS = _health(
    "powerocean_decode_errors_total",
    Kind.COUNTER,
    "Payloads or frames dropped because they could not be used, by reason.",
    ("reason",),
)
POWEROCEAN_MQTT_CONNECTED = _health(
    "powerocean_mqtt_connected", Kind.GAUGE, "1 while the exporter is connected to the MQTT broker."
)
POWEROCEAN_MQTT_CONNECTS = _health(
    "powerocean_mqtt_connects_total",
    Kind.COUNTER,
    "Successful connections to the MQTT broker (more than one means reconnects).",
)
POWEROCEAN_MQTT_DISCONNECTS = _health(
    "powerocean_mqtt_disconnects_total",
    Kind.COUNTER,
    "Connections to the MQTT broker that were lost.",
)
POWEROCEAN_LOGINS = _health(
    "powerocean_logins_total",
    Kind.COUNTER,
    "Logins to the EcoFlow API (app login or Open API certification), by result.",
    ("result",),
)
POWEROCEAN_REQUESTS_PUBLISHED = _health(
    "powerocean_mqtt_requests_published_total",
    Kind.COUNTER,
    "Data requests published to the systems, by request: energy_stream (the energy-stream"
    " switch), get_all (a full state dump), latest_quotas (the app's latestQuotas request).",
    ("request",),
)

#: PowerOcean's health metrics, in the order ``ess-exporter metrics`` lists them.
POWEROCEAN_HEALTH = (
    POWEROCEAN_SYSTEM,
    POWEROCEAN_UP,
    POWEROCEAN_LAST_MESSAGE,
    POWEROCEAN_PACK_LAST_MESSAGE,
    POWEROCEAN_MESSAGES_RECEIVED,
    POWEROCEAN_DECODE_ERRORS,
    POWEROCEAN_MQTT_CONNECTED,
    POWEROCEAN_MQTT_CONNECTS,
    POWEROCEAN_MQTT_DISCONNECTS,
    POWEROCEAN_LOGINS,
    POWEROCEAN_REQUESTS_PUBLISHED,
)


class PowerOceanCollector:
    """Exports every system of ``devices`` (serial -> name), and the state of ``connection``
    (none in benchmarks and tests that feed the cache themselves)."""

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        ingest: CacheWriter,
        connection: PowerOceanConnection | None,
        *,
        devices: Devices,
        stale_after: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._ingest = ingest
        self._connection = connection
        self._devices = devices
        self._stale_after = stale_after
        self._clock = clock
        self._mapping = mapping
        self._lasting = {name for name, route in mapping.routes.items() if route.lasting}
        self._system_groups = _system_groups(mapping)
        self._entry_groups = _entry_groups(mapping)

    def collect(self) -> Iterator[AnyFamily]:
        """Each system's families, from what its reports hold now, then the health ones."""
        now = self._clock()
        systems = self._cache.snapshot()
        dropped, received = self._ingest.counts()
        names = self._devices.names()
        #: The reports shown of each system that is up.
        shown = {s: reports for s in sorted(names) if (reports := self._shown(systems.get(s), now))}
        for serial, energy in self._ingest.energy().items():
            if serial in shown:
                shown[serial][INTEGRATED_ENERGY] = energy
        families = Families()
        for group in self._system_groups:
            rows = [
                ((s,), raws) for s, r in shown.items() if (raws := group.raws(s, r)) is not None
            ]
            group.channels.add(families, rows)
        last_pack_message: dict[tuple[str, str], float] = {}
        for entries in self._entry_groups:
            (message,) = entries.messages
            entry_rows: list[Device] = []
            for serial in shown:
                kept = systems[serial].entries.get(message, {})
                fresh = {n: r for n, r in kept.items() if entries.lasting or self._fresh(r, now)}
                if entries.label == "pack":
                    last_pack_message.update(((serial, p), r.at) for p, r in fresh.items())
                entry_rows += (
                    ((serial, n), entries.read(serial, message, r)) for n, r in fresh.items()
                )
            entries.channels.add(families, entry_rows)
        yield from families
        last_message = [
            ((serial, message), reported.at)
            for serial in names
            for message, reported in systems.get(serial, SystemState()).messages.items()
        ]
        yield POWEROCEAN_SYSTEM.info(
            [(serial, name, self._model_of(serial)) for serial, name in sorted(names.items())]
        )
        yield POWEROCEAN_UP.family([((s,), float(s in shown)) for s in sorted(names)])
        yield POWEROCEAN_LAST_MESSAGE.family(sorted(last_message))
        yield POWEROCEAN_PACK_LAST_MESSAGE.family(sorted(last_pack_message.items()))
        yield POWEROCEAN_MESSAGES_RECEIVED.family(sorted(received.items()))
        yield POWEROCEAN_DECODE_ERRORS.family([((r,), n) for r, n in sorted(dropped.items())])
        if self._connection is not None:
            yield from _connection_health(self._connection)

    def _model_of(self, serial: str) -> str:
        return self._ingest.model_of(serial) or self._mapping.model_of_serial(serial) or "unknown"

    def _shown(self, system: SystemState | None, now: float) -> dict[str, Reported]:
        """The reports of ``system`` to show, by message: the lasting ones and the fresh
        periodic ones; none when no periodic one is fresh (the system is down)."""
        messages = system.messages if system else {}
        shown = {m: r for m, r in messages.items() if m in self._lasting or self._fresh(r, now)}
        return shown if any(message not in self._lasting for message in shown) else {}

    def _fresh(self, reported: Reported, now: float) -> bool:
        return now - reported.at <= self._stale_after


def _connection_health(counts: PowerOceanConnection) -> Iterator[AnyFamily]:
    yield POWEROCEAN_MQTT_CONNECTED.family([((), float(counts.connected))])
    yield POWEROCEAN_MQTT_CONNECTS.family([((), counts.connects)])
    yield POWEROCEAN_MQTT_DISCONNECTS.family([((), counts.disconnects)])
    logins = counts.login_attempts - counts.login_failures
    yield POWEROCEAN_LOGINS.family([(("ok",), logins), (("failed",), counts.login_failures)])
    published = sorted(counts.published_requests.items())
    yield POWEROCEAN_REQUESTS_PUBLISHED.family([((name,), n) for name, n in published])


class _NotHeld(Enum):
    """A report that does not hold a field, and says nothing of it."""

    NOT_HELD = "not held"


_NOT_HELD = _NotHeld.NOT_HELD

#: A device's label values and its channels' raw values.
Device = tuple[tuple[str, ...], Sequence["Value | None"]]


@dataclass(frozen=True)
class MessageField:
    """Where a channel's value may be kept: a message and the paths in its fields, the
    first it holds counting.

    ``complete``: the message is sent without field presence, so a scalar it left out is 0.
    """

    message: str
    paths: tuple[FieldPath, ...]
    complete: bool = False


class ChannelGroup:
    """Channels read from the same messages: a system's, labelled by its serial, or those of
    the entries one message keeps (packs, components ...), labelled by serial and ``label``."""

    def __init__(
        self,
        messages: tuple[str, ...],
        channels: Sequence[tuple[PowerOceanChannel, tuple[MessageField, ...]]],
        label: str = "",
        lasting: bool = False,
    ) -> None:
        self.messages = messages
        self.label = label
        self.lasting = lasting
        self._summed = [i for i, (c, _) in enumerate(channels) if c.location.summed]
        #: The channels some units send with the opposite sign, and those units' prefixes.
        self._inverted = [
            (i, c.location.sign_inverted_on)
            for i, (c, _) in enumerate(channels)
            if c.location.sign_inverted_on
        ]
        device_labels = ("serial", label) if label else ("serial",)
        self.channels = ChannelFamilies([channel for channel, _ in channels], device_labels)
        self._reads = {
            message: tuple(_read(c, fields[m], weighed=False) for c, fields in channels)
            for m, message in enumerate(messages)
        }
        self._weighed_reads = {
            message: tuple(_read(c, fields[m], weighed=True) for c, fields in channels)
            for m, message in enumerate(messages)
        }

    def raws(self, serial: str, shown: Mapping[str, Reported]) -> list[Value | None] | None:
        """The raw value of each channel in the reports ``shown`` of the system ``serial``;
        None when it sent none of the group's messages."""
        sent = [message for message in self.messages if message in shown]
        if not sent:
            return None
        if len(sent) == 1:
            return self.read(serial, sent[0], shown[sent[0]])
        # Each channel from the newest report that holds it (ties: in ``messages`` order).
        newest_first = sorted(sent, key=lambda message: shown[message].at, reverse=True)
        raws = _values(shown[newest_first[0]].fields, self._weighed_reads[newest_first[0]])
        for message in newest_first[1:]:
            older = _values(shown[message].fields, self._weighed_reads[message])
            raws = [
                new if new is not _NOT_HELD else old for new, old in zip(raws, older, strict=True)
            ]
        return self._finish(serial, [None if raw is _NOT_HELD else raw for raw in raws])

    def read(self, serial: str, message: str, reported: Reported) -> list[Value | None]:
        """The raw value of each channel in one report of ``message`` (or of an entry) of
        the system ``serial``."""
        return self._finish(serial, _values(reported.fields, self._reads[message]))

    def _finish(self, serial: str, raws: list[Any]) -> list[Value | None]:
        """``raws`` with the lists of summed channels (``Field.summed``) added up and the
        signs of the system's inverted ones (``Field.sign_inverted_on``) turned."""
        for index in self._summed:
            value = raws[index]
            if isinstance(value, tuple):
                raws[index] = sum(value)
        for index, prefixes in self._inverted:
            value = raws[index]
            if isinstance(value, int | float) and serial.startswith(prefixes):
                raws[index] = -value
        return raws


def _system_groups(mapping: PowerOceanMapping) -> list[ChannelGroup]:
    """The system channels (not of an entry) grouped by the messages they are read from."""
    entry_schemas = {r.schema for r in mapping.routes.values() if r.entry_label}
    groups: dict[tuple[str, ...], list[tuple[PowerOceanChannel, tuple[MessageField, ...]]]] = {}
    for channel in mapping.channels:
        if channel.location.message in entry_schemas:
            continue
        fields = _fields(mapping, channel)
        messages = tuple(field.message for field in fields)
        groups.setdefault(messages, []).append((channel, fields))
    return [ChannelGroup(messages, channels) for messages, channels in groups.items()]


def _fields(mapping: PowerOceanMapping, channel: PowerOceanChannel) -> tuple[MessageField, ...]:
    """Every message a system channel may be read from: app messages, then the Open API's."""
    field = channel.location
    if field.message == INTEGRATED_ENERGY:
        return (MessageField(INTEGRATED_ENERGY, field.paths),)
    fields = [
        MessageField(route.name, field.paths, route.complete)
        for route in mapping.routes.values()
        if route.schema == field.message
    ]
    if field.quota and not channel.variant:
        fields += [MessageField(quota, ((field.quota,),)) for quota in (QUOTA_ALL, QUOTA_STREAM)]
    return tuple(fields)


def _entry_groups(mapping: PowerOceanMapping) -> list[ChannelGroup]:
    """The channels of each message's entries, and of the Open API's packs."""
    groups = [
        ChannelGroup(
            (route.name,),
            [
                (c, (MessageField(route.name, c.location.paths, route.complete),))
                for c in mapping.channels
                if c.location.message == route.schema
            ],
            route.entry_label,
            route.lasting,
        )
        for route in mapping.routes.values()
        if route.entry_label
    ]
    pack_schemas = {r.schema for r in mapping.routes.values() if r.entry_label == "pack"}
    quota_packs = [
        (c, (MessageField(QUOTA_PACKS, ((c.location.quota,),)),))
        for c in mapping.channels
        if c.location.message in pack_schemas and c.location.quota and not c.variant
    ]
    return [*groups, ChannelGroup((QUOTA_PACKS,), quota_packs, "pack")]


#: A channel's value in a report: ``_NOT_HELD`` when weighed and left out.
_Raw = Value | _NotHeld | None
#: How to read a channel from a report's fields: its first path, all its paths when it has
#: fallbacks (most channels have none), and what stands for a field left out.
_Read = tuple[FieldPath, tuple[FieldPath, ...], _Raw]


def _read(channel: PowerOceanChannel, field: MessageField, *, weighed: bool) -> _Read:
    """How to read ``channel`` from a report of ``field.message``. A field the report left
    out is 0 for a scalar of a complete message; else None, or ``_NOT_HELD`` when
    ``weighed`` against newer reports of other messages (the report says nothing of it)."""
    missing: _Raw = _NOT_HELD if weighed else None
    if field.complete:
        missing = None if channel.kind is Kind.ARRAY else 0
    fallbacks = field.paths if len(field.paths) > 1 else ()
    return field.paths[0], fallbacks, missing


def _values(fields: Mapping[FieldPath, Value], reads: tuple[_Read, ...]) -> list[_Raw]:
    """The value of each channel of ``reads`` in a report's ``fields``."""
    get = fields.get
    return [
        _first(fields, paths, missing) if paths else get(path, missing)
        for path, paths, missing in reads
    ]


def _first(fields: Mapping[FieldPath, Value], paths: tuple[FieldPath, ...], missing: _Raw) -> _Raw:
    """The value at the first of ``paths`` that ``fields`` hold, else ``missing``."""
    return next((fields[path] for path in paths if path in fields), missing)

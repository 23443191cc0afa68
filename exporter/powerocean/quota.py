"""The Open API's quota maps -> the message cache (Open API mode, developer keys).

The Open API reports a system as a map of quota keys (``sysGridPwr``, ``pcsAPhase.vol``,
``mpptHeartBeat[0].mpptPv[1].pwr``, ``ems_change_report.pcsRunSta``) over two paths:
``quota/all`` over HTTPS (the whole map) and the MQTT quota stream (``{"cmdFunc",
"cmdId", "param"}``, a part of it). Both land in the cache under their own message name,
so ``powerocean_last_message_timestamp_seconds`` tells which path delivered; a channel
with a ``quota`` key in the mapping reads whichever reported last. Values come as
numbers, numeric texts or state names; battery packs as one JSON text per pack.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from exporter.model import Kind
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import OPEN_API_QUOTA, PowerOceanChannel, PowerOceanMapping
from exporter.powerocean.codec import Report, Value
from exporter.powerocean.ingest import CacheWriter
from exporter.powerocean.wire import MAX_PAYLOAD_BYTES

#: Messages of the Open API paths, as the cache and the health series name them.
QUOTA_ALL = "OPEN_API_QUOTA_ALL"
QUOTA_STREAM = "OPEN_API_QUOTA_STREAM"
QUOTA_PACKS = "OPEN_API_PACKS"

#: Why a quota message (or a part of it) was dropped; all are exported from the start.
DROP_REASONS = ("not_json", "unknown_command", "foreign_serial", "too_many_entries")


class QuotaIngest(CacheWriter):
    """Turns quota maps of the configured ``devices`` into cached reports."""

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        devices: Container[str],
        *,
        stale_after: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The powers of the Open API's quota keys come in its two kinds of message: each
        # report's count, not what one of them kept.
        quota_flows = tuple(
            replace(flow, message=message)
            for flow in mapping.energy.flows
            if flow.message == OPEN_API_QUOTA
            for message in (QUOTA_ALL, QUOTA_STREAM)
        )
        super().__init__(
            cache,
            devices,
            DROP_REASONS,
            stale_after=stale_after,
            clock=clock,
            energy=replace(mapping.energy, flows=quota_flows),
            integrate_kept=False,
        )
        self._layout = mapping.open_api
        pack_schemas = {r.schema for r in mapping.routes.values() if r.entry_label == "pack"}
        #: The channels read from the quota keys of a system, and of a battery pack.
        self._system_keys: dict[str, PowerOceanChannel] = {}
        self._pack_keys: dict[str, PowerOceanChannel] = {}
        for channel in mapping.channels:
            where = channel.location
            if where.quota and not channel.variant:
                keys = self._pack_keys if where.message in pack_schemas else self._system_keys
                keys[where.quota] = channel
        #: When the quota stream last brought something, by serial (a configured one).
        self._last_stream: dict[str, float] = {}

    def last_stream(self, serial: str) -> float:
        """When the quota stream last brought something for ``serial`` (0: never)."""
        return self._last_stream.get(serial, 0.0)

    def stream(self, topic: str, payload: bytes) -> None:
        """One message of ``/open/<account>/<serial>/quota`` (paho's network thread)."""
        serial = topic.rpartition("/")[0].rpartition("/")[2]  # the segment before "quota"
        if serial not in self._devices:
            self._drop("foreign_serial", topic)
            return
        message = _json_object(payload)
        if message is None or not isinstance(message.get("param"), dict):
            self._drop("not_json", topic)
            return
        command = (message.get("cmdFunc"), message.get("cmdId"))
        param = message["param"]
        self._last_stream[serial] = self._clock()
        if command == self._layout.pack_command:
            self._store_packs(serial, self._stream_packs(param))
        elif command in self._layout.stream_commands:
            prefix = self._layout.stream_commands[command]  # type: ignore[index]
            quotas = ((prefix + key, value) for key, value in quota_keys(param))
            self._store(serial, QUOTA_STREAM, _report(quotas, self._system_keys))
        else:
            self._drop("unknown_command", topic)

    def quota_all(self, serial: str, quotas: Mapping[str, Any]) -> None:
        """The answer of ``quota/all`` for ``serial``: the whole map, so it replaces the last."""
        if serial not in self._devices:
            self._drop("foreign_serial", "quota/all")
            return
        prefix = self._layout.pack_prefix
        packs = {
            key.removeprefix(prefix): _json_object(value)
            for key, value in quotas.items()
            if prefix and key.startswith(prefix)
        }
        system = {k: v for k, v in quotas.items() if not (prefix and k.startswith(prefix))}
        self._store(serial, QUOTA_ALL, _report(quota_keys(system), self._system_keys), replace=True)
        self._store_packs(serial, {name: pack for name, pack in packs.items() if pack})

    def _stream_packs(self, param: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The stream's pack list by pack serial; entries naming no pack are left out."""
        entries = [e for e in param.get(self._layout.pack_list) or [] if isinstance(e, dict)]
        named = ((_pack_serial(entry.get(self._layout.pack_serial)), entry) for entry in entries)
        return {name: entry for name, entry in named if name}

    def _store_packs(self, serial: str, packs: Mapping[str, Mapping[str, Any]]) -> None:
        if not packs:
            return
        reports = [
            (name, _report(quota_keys(pack), self._pack_keys)) for name, pack in packs.items()
        ]
        self._store_entries(serial, QUOTA_PACKS, reports, replace=False)
        self._receive(serial, QUOTA_PACKS)


def _json_object(raw: Any) -> dict[str, Any] | None:
    """A JSON object from bytes or text (or one parsed already), else None."""
    value = raw
    if isinstance(raw, bytes | str) and len(raw) <= MAX_PAYLOAD_BYTES:
        with contextlib.suppress(ValueError):  # UnicodeDecodeError is one too
            value = json.loads(raw)
    return value if isinstance(value, dict) else None


def quota_keys(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Nested objects and lists as quota keys: ``a.b``, ``a[0].b``. The Open API flattens the
    parameters it signs the same way."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from quota_keys(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from quota_keys(item, f"{key}[{index}]")
    else:
        yield key, value


def _report(quotas: Iterable[tuple[str, Any]], channels: Mapping[str, PowerOceanChannel]) -> Report:
    """The values of the quota keys some channel reads, as numbers (or texts for info)."""
    values = ((key, _value(channels[key], raw)) for key, raw in quotas if key in channels)
    return Report({(key,): value for key, value in values if value is not None})


def _value(channel: PowerOceanChannel, raw: Any) -> Value | None:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int | float):
        return raw
    if not isinstance(raw, str):
        return None
    if channel.kind is Kind.INFO:
        return raw
    try:
        number = float(raw)
    except ValueError:  # a state name, as quota/all sends it (RUNSTA_RUN, WORKMODE_SELFUSE)
        names = (raw, raw.partition("_")[2]) if channel.kind is Kind.ENUM else ()
        return next((number for number, name in channel.states.items() if name in names), None)
    return int(number) if number.is_integer() else number


def _pack_serial(raw: Any) -> str:
    """The stream sends a pack's serial base64-encoded; quota/all keys it in plain text."""
    if not isinstance(raw, str) or not raw:
        return ""
    try:
        decoded = base64.b64decode(raw, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return raw
    return decoded if decoded.isprintable() else raw

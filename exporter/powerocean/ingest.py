"""MQTT payloads -> the message cache, on paho's network thread.

Bad input is counted by reason and dropped; nothing a payload holds can create series
for a system that is not configured, or more entries (packs ...) than the cache keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container

from exporter.powerocean.cache import MessageCache
from exporter.powerocean.codec import (
    DecodedFrame,
    DecodeError,
    Report,
    decode_payload,
    serial_from_topic,
)
from exporter.powerocean.schema import PowerOceanMapping, SystemModels
from exporter.powerocean.writer import CacheWriter

#: Why a payload or a frame was dropped; all are exported from the start.
DROP_REASONS = (
    "too_large",
    "not_protobuf",
    "truncated",
    "empty",
    "no_serial",
    "blank_header",
    "bad_message",
    "unknown_command",
    "foreign_serial",
    "too_many_entries",
)


#: What is kept for a kind of entries itself: only that it arrived (and when).
_ARRIVAL = Report({})


class Ingest(CacheWriter):
    """Decodes payloads of the configured ``devices`` into ``cache``.

    A frame whose header names a serial other than its topic's, or a serial that is
    not configured, is dropped as "foreign_serial".
    """

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        devices: Container[str],
        *,
        stale_after: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(cache, devices, DROP_REASONS, stale_after=stale_after, clock=clock)
        self._mapping = mapping
        self._models = SystemModels(mapping.models, devices)

    def __call__(self, topic: str, payload: bytes) -> None:
        try:
            frames, skipped = decode_payload(payload, self._mapping, self._models, topic)
        except DecodeError as exc:
            self._drop(exc.reason, topic)
            return
        for reason in skipped:
            self._drop(reason, topic)
        system = serial_from_topic(topic)
        for decoded in frames:
            reason = self._store_frame(decoded, system)
            if reason:
                self._drop(reason, topic)

    def _store_frame(self, decoded: DecodedFrame, system: str) -> str:
        """Store one frame; returns why it was dropped, or "" when it was stored."""
        frame, route = decoded.frame, decoded.route
        if frame.serial != system or system not in self._devices:
            return "foreign_serial"
        if route is None:
            ignored = (frame.cmd_func, frame.cmd_id) in self._mapping.ignored
            return "" if ignored else "unknown_command"
        if decoded.error:
            return decoded.error
        if not route.entry_label:
            self._store(system, route.name, decoded.reports[0][1], replace=route.complete)
            return ""
        self._store(system, route.name, _ARRIVAL)
        stored = self._store_entries(system, route.name, decoded.reports, replace=route.complete)
        return "" if stored else "too_many_entries"

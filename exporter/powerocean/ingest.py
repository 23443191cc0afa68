"""MQTT payloads -> the message cache, on paho's network thread.

Bad input is counted by reason and dropped; nothing a payload holds can create series
for a system that is not configured, or more entries (packs ...) than the cache keeps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
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

log = logging.getLogger(__name__)

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


class Ingest:
    """Decodes payloads of the configured ``devices`` into ``cache``.

    A frame whose header names a serial other than its topic's, or a serial that is
    not configured, is dropped as "foreign_serial". ``stale_after`` tells which
    entries (packs, modules ...) may be evicted to make room for a new one.
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
        self._mapping = mapping
        self._ignored = mapping.ignored
        self._cache = cache
        self._devices = devices
        self._models = SystemModels(mapping.models, self._devices)
        self._stale_after = stale_after
        self._clock = clock
        self._dropped: Counter[str] = Counter(dict.fromkeys(DROP_REASONS, 0))
        self._received: Counter[tuple[str, str]] = Counter()
        self._counts_lock = threading.Lock()

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Dropped payloads by reason, and received messages by (serial, message kind)."""
        with self._counts_lock:
            return dict(self._dropped), dict(self._received)

    def __call__(self, topic: str, payload: bytes) -> None:
        try:
            frames, skipped = decode_payload(payload, self._mapping, self._models, topic)
        except DecodeError as exc:
            self._drop(exc.reason, topic)
            return
        for reason in skipped:
            self._drop(reason, topic)
        system = serial_from_topic(topic)
        now = self._clock()
        for decoded in frames:
            reason = self._store(decoded, system, now)
            if reason:
                self._drop(reason, topic)

    def _store(self, decoded: DecodedFrame, system: str, now: float) -> str:
        """Store one frame; returns why it was dropped, or "" when it was stored."""
        frame, route = decoded.frame, decoded.route
        if frame.serial != system or system not in self._devices:
            return "foreign_serial"
        if route is None:
            ignored = (frame.cmd_func, frame.cmd_id) in self._ignored
            return "" if ignored else "unknown_command"
        if decoded.error:
            return decoded.error
        with self._counts_lock:
            self._received[(system, route.name)] += 1
        if not route.entry_label:
            report = decoded.reports[0][1]
            self._cache.update(system, route.name, report, now, replace=route.complete)
            return ""
        self._cache.update(system, route.name, Report({}), now)  # the kind's arrival
        forget_before = now - self._stale_after
        stored = [
            self._cache.update_entry(
                system,
                route.name,
                name,
                report,
                now,
                forget_before=forget_before,
                replace=route.complete,
            )
            for name, report in decoded.reports
        ]
        return "" if all(stored) else "too_many_entries"

    def _drop(self, reason: str, topic: str) -> None:
        with self._counts_lock:
            self._dropped[reason] += 1
        log.debug("dropped a frame on %s: %s", topic[:128], reason)

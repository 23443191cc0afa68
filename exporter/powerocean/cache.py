"""The latest message of each kind, per system and per battery pack.

MQTT payloads are decoded on paho's thread (``Ingest``) and stored in a
``MessageCache``; scrapes read a snapshot. Stored messages are never modified after
they are stored, so a snapshot can be read without holding the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from exporter.powerocean.device import PowerOceanMapping, Route
from exporter.powerocean.envelope import DecodeError, parse_message, split_payload

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
)


@dataclass(frozen=True)
class Received:
    name: str  # the message's name in the mapping's routes
    message: Message
    at: float  # Unix time of arrival


@dataclass
class SystemMessages:
    """Everything cached for one PowerOcean system."""

    messages: dict[str, Received] = field(default_factory=dict)
    packs: dict[str, Received] = field(default_factory=dict)

    def copy(self) -> SystemMessages:
        return SystemMessages(dict(self.messages), dict(self.packs))


class MessageCache:
    def __init__(self) -> None:
        self._systems: dict[str, SystemMessages] = {}
        self._lock = threading.Lock()

    def store(self, serial: str, received: Received) -> None:
        with self._lock:
            self._systems.setdefault(serial, SystemMessages()).messages[received.name] = received

    def store_pack(self, serial: str, pack: str, received: Received) -> None:
        with self._lock:
            self._systems.setdefault(serial, SystemMessages()).packs[pack] = received

    def snapshot(self) -> dict[str, SystemMessages]:
        with self._lock:
            return {serial: system.copy() for serial, system in self._systems.items()}


class Ingest:
    """Turns MQTT payloads into cached messages; bad input is counted and dropped."""

    def __init__(
        self,
        mapping: PowerOceanMapping,
        cache: MessageCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._routes = mapping.routes
        self._cache = cache
        self._clock = clock
        self._dropped: Counter[str] = Counter(dict.fromkeys(DROP_REASONS, 0))
        self._received: Counter[tuple[str, str]] = Counter()
        self._counts_lock = threading.Lock()

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Dropped payloads by reason, and received messages by (serial, message)."""
        with self._counts_lock:
            return dict(self._dropped), dict(self._received)

    def __call__(self, topic: str, payload: bytes) -> None:
        try:
            split = split_payload(payload, topic)
        except DecodeError as exc:
            self._drop(exc.reason, topic)
            return
        for reason in split.skipped:
            self._drop(reason, topic)
        now = self._clock()
        for frame in split.frames:
            route = self._routes.get((frame.cmd_func, frame.cmd_id))
            if route is None:
                self._drop("unknown_command", topic)
                continue
            try:
                message = parse_message(route.message_type, frame.pdata)
            except DecodeError as exc:
                self._drop(exc.reason, topic)
                continue
            with self._counts_lock:
                self._received[(frame.serial, route.name)] += 1
            if route.packs:
                self._store_packs(frame.serial, route, message, now)
            else:
                self._cache.store(frame.serial, Received(route.name, message, now))

    def _store_packs(self, serial: str, route: Route, message: Message, now: float) -> None:
        for pack in getattr(message, route.packs):
            key = getattr(pack, route.pack_key).decode("utf-8", "replace").strip("\x00 ")
            if not key:
                slot = getattr(pack, route.pack_slot, 0) if route.pack_slot else 0
                if not slot:
                    continue  # an empty placeholder entry: no serial, no slot
                key = f"slot-{slot}"
            self._cache.store_pack(serial, key, Received(route.name, pack, now))

    def _drop(self, reason: str, topic: str) -> None:
        with self._counts_lock:
            self._dropped[reason] += 1
        log.debug("dropped a payload on %s: %s", topic, reason)

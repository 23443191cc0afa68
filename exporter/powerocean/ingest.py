"""MQTT payloads -> the message cache, on paho's network thread.

Each frame is decoded once, here, into the fields it reported, with the route of its
system's model; the model is learned on the way (``SystemModels``). Bad input is counted
by reason and dropped; nothing a payload holds can create series for a system that is not
configured, or more entries (packs ...) than the cache keeps. ``CacheWriter`` is what this
ingest and the Open API's (``quota.py``) share.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Container, Iterable
from dataclasses import replace

from exporter.powerocean.cache import MessageCache, Reported
from exporter.powerocean.channels import EnergyIntegration, PowerOceanMapping
from exporter.powerocean.codec import DecodedFrame, Report, decode_frame
from exporter.powerocean.energy import EnergyCounters
from exporter.powerocean.wire import EMS, DecodeError, Frame, serial_from_topic, split_payload

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


#: What is kept for a message of entries itself: only that it arrived (and when).
_ARRIVAL = Report({})


class CacheWriter:
    """Stores reports of ``devices`` in ``cache`` and counts them by system and message.

    Every drop reason in ``reasons`` is counted from the start. An entry (pack, component
    ...) that finds no room evicts the entries of its message silent for ``stale_after``.
    The powers of ``energy`` are integrated as the message keeps them after each report, or
    with ``integrate_kept=False`` as each report carries them (``energy.py`` says why).
    """

    def __init__(
        self,
        cache: MessageCache,
        devices: Container[str],
        reasons: Iterable[str],
        *,
        stale_after: float,
        clock: Callable[[], float],
        energy: EnergyIntegration,
        integrate_kept: bool = True,
    ) -> None:
        self._cache = cache
        self._energy = EnergyCounters(energy)
        self._integrate_kept = integrate_kept
        self._devices = devices
        self._stale_after = stale_after
        self._clock = clock
        self._dropped: Counter[str] = Counter(dict.fromkeys(reasons, 0))
        self._received: Counter[tuple[str, str]] = Counter()
        self._counts_lock = threading.Lock()

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Dropped messages by reason, and received messages by (serial, message name)."""
        with self._counts_lock:
            return dict(self._dropped), dict(self._received)

    def model_of(self, serial: str) -> str:
        """The model the system's frames told ("": none)."""
        return ""

    def energy(self) -> dict[str, Reported]:
        """The integrated energy of each system (``energy.EnergyCounters.snapshot``)."""
        return self._energy.snapshot()

    def _store(self, serial: str, message: str, report: Report, *, replace: bool = False) -> None:
        now = self._clock()
        kept = self._cache.update(serial, message, report, now, replace=replace)
        self._energy.add(serial, message, (kept if self._integrate_kept else report).fields, now)
        self._receive(serial, message)

    def _store_entries(
        self,
        serial: str,
        message: str,
        entries: Iterable[tuple[str, Report]],
        *,
        replace: bool,
        newest_by: str = "",
    ) -> None:
        """Store each (entry name, report); any that finds no room is "too_many_entries"."""
        now = self._clock()
        stored = [
            self._cache.update_entry(
                serial,
                message,
                name,
                report,
                now,
                forget_before=now - self._stale_after,
                replace=replace,
                newest_by=newest_by,
            )
            for name, report in entries
        ]
        if not all(stored):
            self._drop("too_many_entries", serial)

    def _receive(self, serial: str, message: str) -> None:
        with self._counts_lock:
            self._received[(serial, message)] += 1

    def _drop(self, reason: str, where: str) -> None:
        with self._counts_lock:
            self._dropped[reason] += 1
        log.debug("dropped a message on %s: %s", where[:128], reason)


class SystemModels:
    """Decodes frames with the routes of their system's model, and learns each system's
    model from what its frames tell: the product id of a header from the EMS (other
    components, such as the IoT module, name their own product), the product type in the
    component inventory (a get-all sends the inventory first), a command only one model
    sends (an Ocean 2's 254/39), else the serial's prefix.

    Only ``serials`` (all when None) are remembered, so frames naming other serials
    cannot grow what is kept.
    """

    def __init__(self, mapping: PowerOceanMapping, serials: Container[str] | None = None) -> None:
        self._mapping = mapping
        self._serials = serials
        self._told: dict[str, str] = {}

    def decode(self, frame: Frame) -> DecodedFrame:
        """``frame`` decoded with the route for its system's model."""
        product_types, command = self._mapping.product_types, (frame.cmd_func, frame.cmd_id)
        if frame.header.src == EMS:
            self._learn(frame.serial, product_types.get(frame.header.product_id >> 8))
        self._learn(frame.serial, self._mapping.model_commands.get(command))
        route = self._mapping.route(self.model_of(frame.serial), *command)
        decoded = decode_frame(frame, route)
        if route is not None and route.tells_model:
            for _, report in decoded.reports:
                product_type = report.fields.get((route.tells_model,))
                if isinstance(product_type, int):
                    self._learn(frame.serial, product_types.get(product_type))
        return decoded

    def model_of(self, serial: str) -> str:
        """The model a frame told, else what the serial's prefix says ("": neither)."""
        return self._told.get(serial) or self._mapping.model_of_serial(serial)

    def _learn(self, serial: str, model: str | None) -> None:
        """Remember the model a frame told (None: it told none)."""
        if model and (self._serials is None or serial in self._serials):
            self._told[serial] = model


class Ingest(CacheWriter):
    """Decodes payloads of the configured ``devices`` into ``cache``.

    A frame belongs to the system its topic names, whatever serial its header carries
    (a component or a sub-device reporting through the system may name its own, as the
    peers' clients, which go by the topic, take for granted); a topic naming a system
    that is not configured is dropped as "foreign_serial".
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
        super().__init__(
            cache,
            devices,
            DROP_REASONS,
            stale_after=stale_after,
            clock=clock,
            energy=mapping.energy,
        )
        self._mapping = mapping
        self._models = SystemModels(mapping, devices)

    def model_of(self, serial: str) -> str:
        return self._models.model_of(serial)

    def __call__(self, topic: str, payload: bytes) -> None:
        if topic.endswith("/get_reply") and payload.startswith(b"{"):
            return  # the JSON answer to latestQuotas: the stream brings the same values
        try:
            split = split_payload(payload, topic)
        except DecodeError as exc:
            self._drop(exc.reason, topic)
            return
        for reason in split.skipped:
            self._drop(reason, topic)
        system = serial_from_topic(topic)
        for frame in split.frames:
            dropped = self._store_frame(frame, system)
            if dropped:
                self._drop(dropped, topic)

    def _store_frame(self, frame: Frame, system: str) -> str:
        """Decode and store one frame; returns why it was dropped, or "" when it was stored."""
        if system not in self._devices:
            return "foreign_serial"
        decoded = self._models.decode(replace(frame, serial=system))
        route = decoded.route
        if route is None:
            ignored = (frame.cmd_func, frame.cmd_id) in self._mapping.ignored
            return "" if ignored else "unknown_command"
        if decoded.error:
            return decoded.error
        if not route.entry_label:
            self._store(system, route.name, decoded.reports[0][1], replace=route.complete)
            return ""
        self._store(system, route.name, _ARRIVAL)
        self._store_entries(
            system, route.name, decoded.reports, replace=route.complete, newest_by=route.newest_by
        )
        return ""

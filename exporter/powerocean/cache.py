"""The last reported fields of every system, per message and per entry (pack, component ...).

PowerOcean firmware sends partial reports (a 96/8 with two fields is common) and
explicit zeros. So a report is merged into what is kept: a field it carries replaces
the kept value, a field it leaves out keeps its last reported value, and a repeated
message it sends replaces the kept entries below that path whole (a list resent shorter
loses its tail). A complete message (``replace``) is kept alone.

What is stored is never modified (a merge makes new fields), so a snapshot is a shallow
copy and can be read without holding the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from exporter.powerocean.codec import Report, Value
from exporter.powerocean.schema import FieldPath


@dataclass(frozen=True, slots=True)
class Reported:
    """The fields of one message (or one entry) as last reported, and when it last came."""

    fields: Mapping[FieldPath, Value]
    at: float


@dataclass
class SystemState:
    """Everything kept for one PowerOcean system: per message, and per entry
    (message -> entry name, e.g. ``JTS1_BP_STA_REPORT`` -> pack serial)."""

    messages: dict[str, Reported] = field(default_factory=dict)
    entries: dict[str, dict[str, Reported]] = field(default_factory=dict)


class MessageCache:
    """Keeps what systems reported; ``max_entries`` bounds the entries of one message kept
    per system (packs, components ...)."""

    def __init__(self, max_entries: int = 32) -> None:
        self._systems: dict[str, SystemState] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def update(
        self, serial: str, message: str, report: Report, at: float, *, replace: bool = False
    ) -> None:
        """Merge ``report`` into the kept ``message``, or with ``replace`` keep it alone."""
        with self._lock:
            messages = self._system(serial).messages
            messages[message] = _kept(messages.get(message), report, at, replace)

    def update_entry(
        self,
        serial: str,
        message: str,
        entry: str,
        report: Report,
        at: float,
        *,
        forget_before: float,
        replace: bool = False,
    ) -> bool:
        """Merge an entry's report; False when the system has ``max_entries`` others.

        A new entry that finds no room first evicts the entries of its message last
        heard from before ``forget_before`` (stale ones, no longer exported anyway).
        """
        with self._lock:
            system = self._system(serial)
            kept = system.entries.get(message)
            if kept is None:
                kept = system.entries[message] = {}
            if entry not in kept and len(kept) >= self._max_entries:
                kept = {name: r for name, r in kept.items() if r.at >= forget_before}
                system.entries[message] = kept
                if len(kept) >= self._max_entries:
                    return False
            kept[entry] = _kept(kept.get(entry), report, at, replace)
            return True

    def _system(self, serial: str) -> SystemState:
        """The state kept for ``serial``, made on its first report (called under the lock)."""
        system = self._systems.get(serial)
        if system is None:
            system = self._systems[serial] = SystemState()
        return system

    def snapshot(self) -> dict[str, SystemState]:
        with self._lock:
            return {
                serial: SystemState(
                    dict(system.messages),
                    {message: dict(e) for message, e in system.entries.items()},
                )
                for serial, system in self._systems.items()
            }


def _kept(reported: Reported | None, report: Report, at: float, replace: bool) -> Reported:
    """What is kept once ``report`` came at ``at`` over ``reported``."""
    if replace or reported is None:
        return Reported(report.fields, at)
    return Reported(_merged(reported.fields, report), at)


def _merged(kept: Mapping[FieldPath, Value], report: Report) -> Mapping[FieldPath, Value]:
    """``kept`` with ``report`` over it."""
    if not kept:
        return report.fields
    lists = report.lists
    starts = {path[0] for path in lists}
    fields = {
        path: value
        for path, value in kept.items()
        if path[0] not in starts or not _below(path, lists)
    }
    fields.update(report.fields)
    return fields


def _below(path: FieldPath, lists: tuple[FieldPath, ...]) -> bool:
    """Whether ``path`` lies below one of ``lists``. A loop, not ``any`` of a generator:
    that takes three times as long, and a heartbeat asks this for each field of its solar
    strings."""
    for listed in lists:  # noqa: SIM110
        if path[: len(listed)] == listed:
            return True
    return False

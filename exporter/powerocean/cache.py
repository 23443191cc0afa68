"""The last reported value of every field, per system, per message kind and per pack.

PowerOcean firmware sends partial reports (a 96/8 with two fields is common) and
explicit zeros. So a report is merged into what is kept: a field it carries replaces
the kept value, a field it leaves out keeps its last reported value. A repeated
message the report sends replaces the kept entries below it as a whole
(``Report.updated_by``).

``Reported`` values are never modified once stored (a merge makes a new one), so a
snapshot is a shallow copy and can be read without holding the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from exporter.powerocean.codec import Report, Value
from exporter.powerocean.schema import FieldPath


@dataclass(slots=True)
class Reported:
    """One message kind (or one pack) as last reported, and when it last came."""

    report: Report
    at: float

    @property
    def fields(self) -> Mapping[FieldPath, Value]:
        return self.report.fields

    def merge(self, report: Report, at: float) -> Reported:
        if self is _NOTHING:
            return Reported(report, at)
        return Reported(self.report.updated_by(report), at)


_NOTHING = Reported(Report({}), 0.0)


@dataclass
class SystemState:
    """Everything kept for one PowerOcean system: per message kind, and per entry
    (kind -> entry name, e.g. ``JTS1_BP_STA_REPORT`` -> pack serial)."""

    kinds: dict[str, Reported] = field(default_factory=dict)
    entries: dict[str, dict[str, Reported]] = field(default_factory=dict)


class MessageCache:
    """Keeps what systems reported; ``max_entries`` bounds the entries of one kind kept
    per system (packs, modules ...)."""

    def __init__(self, max_entries: int = 32) -> None:
        self._systems: dict[str, SystemState] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def update(
        self, serial: str, kind: str, report: Report, at: float, *, replace: bool = False
    ) -> None:
        """Merge ``report`` into the kept kind, or with ``replace`` keep it alone."""
        with self._lock:
            kinds = self._system(serial).kinds
            kinds[kind] = (_NOTHING if replace else kinds.get(kind, _NOTHING)).merge(report, at)

    def update_entry(
        self,
        serial: str,
        kind: str,
        name: str,
        report: Report,
        at: float,
        *,
        forget_before: float,
        replace: bool = False,
    ) -> bool:
        """Merge an entry's report; False when the system has ``max_entries`` others.

        A new entry that finds no room first evicts the entries of its kind last
        heard from before ``forget_before`` (stale ones, no longer exported anyway).
        """
        with self._lock:
            system = self._system(serial)
            kept = system.entries.get(kind)
            if kept is None:
                kept = system.entries[kind] = {}
            if name not in kept and len(kept) >= self._max_entries:
                kept = {k: v for k, v in kept.items() if v.at >= forget_before}
                system.entries[kind] = kept
                if len(kept) >= self._max_entries:
                    return False
            kept[name] = (_NOTHING if replace else kept.get(name, _NOTHING)).merge(report, at)
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
                    dict(system.kinds), {kind: dict(e) for kind, e in system.entries.items()}
                )
                for serial, system in self._systems.items()
            }

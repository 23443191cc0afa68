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

from exporter.powerocean.channels import FieldPath
from exporter.powerocean.codec import Report, Value


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
    ) -> Reported:
        """Merge ``report`` into the kept ``message``, or with ``replace`` keep it alone;
        returns what is kept now."""
        with self._lock:
            messages = self._systems.setdefault(serial, SystemState()).messages
            kept = messages[message] = _kept(messages.get(message), report, at, replace)
            return kept

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
        newest_by: str = "",
    ) -> bool:
        """Merge an entry's report; False when the system has ``max_entries`` others.

        A new entry that finds no room first evicts the entries of its message last
        heard from before ``forget_before`` (stale ones, no longer exported anyway). With
        ``newest_by`` (a field), a report whose value there is lower than the kept one's is
        history and changes nothing.
        """
        with self._lock:
            entries = self._systems.setdefault(serial, SystemState()).entries
            kept = entries.setdefault(message, {})
            if newest_by and _older(report, kept.get(entry), newest_by):
                return True
            if entry not in kept and len(kept) >= self._max_entries:
                kept = entries[message] = {n: r for n, r in kept.items() if r.at >= forget_before}
                if len(kept) >= self._max_entries:
                    return False
            kept[entry] = _kept(kept.get(entry), report, at, replace)
            return True

    def snapshot(self) -> dict[str, SystemState]:
        with self._lock:
            return {
                serial: SystemState(
                    dict(system.messages),
                    {message: dict(e) for message, e in system.entries.items()},
                )
                for serial, system in self._systems.items()
            }


def _older(report: Report, reported: Reported | None, newest_by: str) -> bool:
    """Whether ``report`` is older than what is kept, by the number in its ``newest_by``."""
    if reported is None:
        return False
    new, old = report.fields.get((newest_by,), 0), reported.fields.get((newest_by,), 0)
    return isinstance(new, int | float) and isinstance(old, int | float) and new < old


def _kept(reported: Reported | None, report: Report, at: float, replace: bool) -> Reported:
    """What is kept once ``report`` came at ``at`` over ``reported``."""
    if replace or reported is None or not reported.fields:
        return Reported(report.fields, at)
    lists = report.lists
    starts = {path[0] for path in lists}  # most fields lie below no list: ask only these
    fields = {
        path: value
        for path, value in reported.fields.items()
        if path[0] not in starts or not any(path[: len(listed)] == listed for listed in lists)
    }
    fields.update(report.fields)
    return Reported(fields, at)

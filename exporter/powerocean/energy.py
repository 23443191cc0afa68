"""Energy counters integrated from the power a system reports, where it keeps no counter.

Each flow of the mapping's ``integrated_energy`` (solar, grid import, ...) is the positive
part of a power field, signed, as the system's kept message holds it after each report (a
report sent on change that leaves the power out says it did not change; in the Open API's
mode, where two messages bring one power, as the report carries it). Between two
consecutive reports the power is taken to change linearly, and the energy of that stretch
is added at the exporter's clock (the trapezoidal rule, split exactly where the power
crosses zero). A stretch longer than ``max_gap_seconds`` (the stream stopped, the exporter
was disconnected) adds nothing: the counter does not guess what happened in between.
Counters start at 0 with the first report of each system after the exporter starts;
Prometheus' ``increase()`` copes.

What is kept is one total and one last sample per flow of each system that reported.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from exporter.powerocean.cache import Reported
from exporter.powerocean.channels import EnergyIntegration, FieldPath, PowerFlow
from exporter.powerocean.codec import Value


class EnergyCounters:
    """The integrated energy of each system, by flow, in joules."""

    def __init__(self, integration: EnergyIntegration) -> None:
        self._max_gap = integration.max_gap_seconds
        self._flows_of: dict[str, list[PowerFlow]] = {}
        for flow in integration.flows:
            self._flows_of.setdefault(flow.message, []).append(flow)
        self._joules: dict[str, dict[str, float]] = {}
        #: The last power of each (serial, flow), and when it came.
        self._last: dict[tuple[str, str], tuple[float, float]] = {}
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, serial: str, message: str, fields: Mapping[FieldPath, Value], at: float) -> None:
        """Integrate the powers of ``message`` up to ``at``; ``fields``: what is kept of it
        (or what a report of it carried; ``ingest.CacheWriter``)."""
        flows = self._flows_of.get(message)
        if not flows:
            return
        with self._lock:
            joules = self._joules.setdefault(serial, {})
            for flow in flows:
                held = (fields[path] for path in flow.paths if path in fields)
                value = next(held, 0 if flow.complete else None)
                if not isinstance(value, int | float):
                    continue
                watts = flow.sign * float(value)
                last_at, last_watts = self._last.get((serial, flow.flow), (at, watts))
                self._last[(serial, flow.flow)] = (at, watts)
                added = 0.0
                if 0 < at - last_at <= self._max_gap:
                    added = positive_area(last_watts, watts, at - last_at)
                joules[flow.flow] = joules.get(flow.flow, 0.0) + added
            self._at[serial] = at

    def snapshot(self) -> dict[str, Reported]:
        """Each system's totals as a report: flow name -> joules, and when it last grew."""
        with self._lock:
            return {
                serial: Reported({(flow,): j for flow, j in joules.items()}, self._at[serial])
                for serial, joules in self._joules.items()
            }


def positive_area(start: float, end: float, seconds: float) -> float:
    """The area above zero of a power changing linearly from ``start`` to ``end`` W over
    ``seconds``, in joules."""
    if start >= 0 and end >= 0:
        return (start + end) / 2 * seconds
    if start <= 0 and end <= 0:
        return 0.0
    peak = max(start, end)  # the power crosses zero: only the triangle above it counts
    return peak * peak / (peak - min(start, end)) / 2 * seconds

"""The health metrics of a device read over Modbus TCP at scrape time, one series per target:
``<device>_up``, the scrape's duration, requests, exception answers and failures by reason."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from exporter.exposition import Family
from exporter.metrics import HealthMetric
from exporter.modbus.target import ScrapeResult
from exporter.model import Kind


class ModbusHealth:
    """The health metrics of ``device`` (the prefix), whose targets are ``what`` ("the REFU")."""

    def __init__(self, device: str, what: str) -> None:
        def metric(name: str, kind: Kind, text: str, *labels: str) -> HealthMetric:
            unit = "seconds" if name.endswith("_seconds") else ""
            return HealthMetric(device, f"{device}_{name}", kind, text, ("target", *labels), unit)

        up = f"1 when the last scrape read {what}, 0 when it could not."
        self.up = metric("up", Kind.GAUGE, up)
        took = f"Time the last scrape of {what} took."
        self.duration = metric("scrape_duration_seconds", Kind.GAUGE, took)
        requests = f"Modbus read requests sent to {what}."
        self.requests = metric("modbus_requests_total", Kind.COUNTER, requests)
        exceptions = (
            f"Modbus exception answers from {what}; the refused block is split and read again."
        )
        self.exceptions = metric("modbus_exceptions_total", Kind.COUNTER, exceptions)
        errors = f"Scrapes of {what} that failed, by reason."
        self.errors = metric("scrape_errors_total", Kind.COUNTER, errors, "reason")

    def __iter__(self) -> Iterator[HealthMetric]:
        """The metrics, in the order ``ess-exporter metrics`` lists them."""
        return iter((self.up, self.duration, self.requests, self.exceptions, self.errors))

    def families(self, targets: Sequence[tuple[str, ScrapeResult[Any]]]) -> Iterator[Family]:
        """Health of the scraped targets, one series per target (and reason)."""
        yield self.up.family([((name,), float(h.up)) for name, h in targets])
        yield self.duration.family([((name,), h.duration_seconds) for name, h in targets])
        yield self.requests.family([((name,), h.requests) for name, h in targets])
        yield self.exceptions.family([((name,), h.exceptions) for name, h in targets])
        yield self.errors.family(
            [((name, reason), n) for name, h in targets for reason, n in sorted(h.errors.items())]
        )

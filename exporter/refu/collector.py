"""The REFU scrape path: read targets when Prometheus scrapes, turn answers into families.

``RefuModule`` is what the HTTP server sees of the REFU: the configured targets for
``/metrics`` and ``/probe?module=refu&target=HOST:PORT[&unit_id=N]``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from prometheus_client.core import Metric

from exporter.config import parse_address
from exporter.metrics import FamilyBuilder, HealthMetric, Part
from exporter.model import Kind
from exporter.modules import BadRequest
from exporter.refu.channels import RefuMapping
from exporter.refu.config import DEFAULT_MODBUS_PORT
from exporter.refu.target import Address, RefuTarget, TargetHealth

REFU_UP = HealthMetric(
    "refu",
    "refu_up",
    Kind.GAUGE,
    "1 when the last scrape read the REFU, 0 when it could not.",
    ("target",),
)
REFU_SCRAPE_DURATION = HealthMetric(
    "refu",
    "refu_scrape_duration_seconds",
    Kind.GAUGE,
    "Time the last scrape of the REFU took.",
    ("target",),
    "seconds",
)
REFU_MODBUS_REQUESTS = HealthMetric(
    "refu",
    "refu_modbus_requests_total",
    Kind.COUNTER,
    "Modbus read requests sent to the REFU.",
    ("target",),
)
REFU_MODBUS_EXCEPTIONS = HealthMetric(
    "refu",
    "refu_modbus_exceptions_total",
    Kind.COUNTER,
    "Modbus exception answers from the REFU; the refused block is split and read again.",
    ("target",),
)
REFU_SCRAPE_ERRORS = HealthMetric(
    "refu",
    "refu_scrape_errors_total",
    Kind.COUNTER,
    "Scrapes of the REFU that failed, by reason.",
    ("target", "reason"),
)

#: The REFU's health metrics, in the order ``ess-exporter metrics`` lists them.
REFU_HEALTH = (
    REFU_UP,
    REFU_SCRAPE_DURATION,
    REFU_MODBUS_REQUESTS,
    REFU_MODBUS_EXCEPTIONS,
    REFU_SCRAPE_ERRORS,
)


def refu_health(targets: Sequence[tuple[str, TargetHealth]]) -> Iterator[Metric]:
    """Health of the scraped REFU targets, one series per target."""
    yield REFU_UP.family([((name,), float(h.up)) for name, h in targets])
    yield REFU_SCRAPE_DURATION.family([((name,), h.duration_seconds) for name, h in targets])
    yield REFU_MODBUS_REQUESTS.family([((name,), h.requests) for name, h in targets])
    yield REFU_MODBUS_EXCEPTIONS.family([((name,), h.exceptions) for name, h in targets])
    yield REFU_SCRAPE_ERRORS.family(
        [((name, reason), n) for name, h in targets for reason, n in sorted(h.errors.items())]
    )


async def read_targets(targets: Sequence[tuple[str, RefuTarget]], timeout: float) -> list[Metric]:
    """Scrape ``targets`` at once, within ``timeout``: their channels' families and health."""
    if len(targets) == 1:  # a /probe: no task of its own, one round of the loop less
        results = [await targets[0][1].scrape(timeout)]
    else:
        results = await asyncio.gather(*(target.scrape(timeout) for _, target in targets))
    parts, health = [], []
    for (name, target), result in zip(targets, results, strict=True):
        parts.append(target.part(name, result))
        health.append((name, target.health(result)))
    families = FamilyBuilder(("target",))
    families.add_part(parts[0] if len(parts) == 1 else Part.merge(parts))
    return [*families.families(), *refu_health(health)]


class TargetPool:
    """Every REFU target the exporter talks to.

    Configured targets (``/metrics``) stay. Targets read through ``/probe`` are kept, one
    per address and unit, for their counters and learned read plan, and forgotten once
    unused for ``idle_seconds``; beyond ``max_probed`` the least recently used go sooner,
    but never one used within ``busy_seconds`` (longer than any scrape may take), so a
    scrape in flight keeps its target and its counters. A device that is both configured
    and probed has two ``RefuTarget``s, so each job's counters count only its own requests.
    Used on the event loop the targets are read on.
    """

    def __init__(
        self,
        mapping: RefuMapping,
        *,
        max_gap: int,
        max_probed: int = 1024,
        idle_seconds: float = 600.0,
        busy_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mapping = mapping
        self._max_gap = max_gap
        self._max_probed = max_probed
        self._idle_seconds = idle_seconds
        self._busy_seconds = busy_seconds
        self._clock = clock
        self._probed: OrderedDict[Address, RefuTarget] = OrderedDict()

    def configure(self, address: Address, settings: Mapping[str, Any]) -> RefuTarget:
        return RefuTarget(
            address, self.mapping, settings=settings, max_gap=self._max_gap, clock=self._clock
        )

    def get(self, address: Address) -> RefuTarget:
        """The probed target at ``address``, created on first use."""
        now = self._clock()
        target = self._probed.pop(address, None) or RefuTarget(
            address, self.mapping, max_gap=self._max_gap, clock=self._clock
        )
        target.last_used = now
        self._probed[address] = target
        self._forget_unused(now)
        return target

    def __len__(self) -> int:
        return len(self._probed)

    def _forget_unused(self, now: float) -> None:
        """From the least recently used: the idle ones, and while over the limit, any not
        busy. Looks no further than the first target it keeps once within the limit."""
        over = len(self._probed) - self._max_probed
        forgotten = []
        for address, target in self._probed.items():
            idle = now - target.last_used
            if idle >= self._idle_seconds or (over > 0 and idle >= self._busy_seconds):
                forgotten.append(address)
                over -= 1
            elif over <= 0:
                break
        for address in forgotten:
            self._probed.pop(address).close()


class RefuModule:
    """The REFU for the HTTP server: configured targets, and any one through ``/probe``.

    A scrape keeps within ``timeout`` (the configuration's) and what Prometheus allows.
    """

    name = "refu"

    def __init__(
        self, pool: TargetPool, targets: Sequence[tuple[str, RefuTarget]], timeout: float
    ) -> None:
        self._pool = pool
        self._targets = list(targets)
        self._timeout = timeout

    async def scrape(self, timeout: float | None) -> list[Metric]:
        if not self._targets:
            return []
        return await read_targets(self._targets, self._within(timeout))

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[Metric]:
        target = params.get("target", "")
        if not target:
            raise BadRequest("'target' parameter is missing")
        try:
            host, port = parse_address(target, DEFAULT_MODBUS_PORT)
            unit_id = int(params.get("unit_id", "1"))
        except ValueError as exc:
            raise BadRequest(f"bad target or unit_id: {exc}") from None
        if not 0 <= unit_id <= 255:
            raise BadRequest("unit_id must be 0..255")
        refu = self._pool.get(Address(host, port, unit_id))
        return await read_targets([(target, refu)], self._within(timeout))

    def links(self) -> list[tuple[str, str]]:
        return [
            (f"{name}: {target.address}", _probe_query(target.address))
            for name, target in self._targets
        ]

    def _within(self, allowed: float | None) -> float:
        return self._timeout if allowed is None else max(0.1, min(self._timeout, allowed))


def _probe_query(address: Address) -> str:
    return urlencode(
        {"module": RefuModule.name, "target": str(address), "unit_id": address.unit_id}
    )

"""The REFU scrape path: read targets when Prometheus scrapes, turn answers into families."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client.core import Metric

from exporter.eventloop import EventLoopThread
from exporter.metrics import FamilyBuilder, refu_health
from exporter.refu.channels import RefuMapping
from exporter.refu.target import Address, RefuTarget, ScrapeResult


class TargetPool:
    """Every REFU target the exporter talks to.

    Configured targets (``/metrics``) stay. Targets read through ``/probe`` are kept, one per
    address and unit, for their counters and learned read plan, the least recently used
    dropped beyond ``max_probed``. A device that is both configured and probed has two
    ``RefuTarget``s, so each job's counters count only its own requests.
    """

    def __init__(
        self, mapping: RefuMapping, loop: EventLoopThread, *, max_gap: int, max_probed: int = 256
    ) -> None:
        self.mapping = mapping
        self._loop = loop
        self._max_gap = max_gap
        self._max_probed = max_probed
        self._probed: OrderedDict[Address, RefuTarget] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def loop(self) -> EventLoopThread:
        return self._loop

    def configure(self, address: Address, settings: Mapping[str, Any]) -> RefuTarget:
        return RefuTarget(address, self.mapping, settings=settings, max_gap=self._max_gap)

    def get(self, address: Address) -> RefuTarget:
        """The probed target at ``address``, created on first use."""
        with self._lock:
            target = self._probed.pop(address, None) or RefuTarget(
                address, self.mapping, max_gap=self._max_gap
            )
            self._probed[address] = target
            while len(self._probed) > self._max_probed:
                _, evicted = self._probed.popitem(last=False)
                self._loop.loop.call_soon_threadsafe(evicted.close)
        return target


class RefuCollector:
    """Scrapes its targets concurrently on every ``collect()``, bounded by ``timeout``."""

    def __init__(
        self, targets: Sequence[tuple[str, RefuTarget]], loop: EventLoopThread, timeout: float
    ) -> None:
        self._targets = targets
        self._loop = loop
        self._timeout = timeout

    def collect(self) -> Iterator[Metric]:
        if not self._targets:
            return
        results = self._loop.run(self._scrape_all())
        families = FamilyBuilder(("target",))
        health = []
        for (name, target), result in zip(self._targets, results, strict=True):
            for channel, raw in result.values.items():
                families.add(channel, raw, (name,))
            health.append((name, target.health(result)))
        yield from families.families()
        yield from refu_health(health)

    async def _scrape_all(self) -> list[ScrapeResult]:
        return await asyncio.gather(*(target.scrape(self._timeout) for _, target in self._targets))

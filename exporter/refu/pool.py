"""Every REFU target the exporter talks to: the configured ones, and those of ``/probe``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from exporter.refu.channels import RefuMapping
from exporter.refu.plan import plan_reads
from exporter.refu.target import Address, RefuTarget


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
        #: The read plan every target starts from.
        self.plan = plan_reads(mapping.register_channels, max_gap)
        self._max_probed = max_probed
        self._idle_seconds = idle_seconds
        self._busy_seconds = busy_seconds
        self._clock = clock
        self._probed: OrderedDict[Address, RefuTarget] = OrderedDict()

    def configure(self, address: Address, settings: Mapping[str, Any]) -> RefuTarget:
        return RefuTarget(address, self.mapping, self.plan, settings=settings, clock=self._clock)

    def get(self, address: Address) -> RefuTarget:
        """The probed target at ``address``, created on first use."""
        now = self._clock()
        target = self._probed.get(address)
        if target is None:
            target = self._probed[address] = RefuTarget(
                address, self.mapping, self.plan, clock=self._clock
            )
        else:
            self._probed.move_to_end(address)
        target.last_used = now
        self._forget_unused(now)
        return target

    def __len__(self) -> int:
        return len(self._probed)

    def _forget_unused(self, now: float) -> None:
        """From the least recently handed out: the idle ones, and while over the limit, any
        not busy; stops at the first it keeps, so a probe costs the same at any pool size."""
        while self._probed:
            address, target = next(iter(self._probed.items()))
            idle = now - target.last_used
            over = len(self._probed) > self._max_probed
            if idle < self._idle_seconds and not (over and idle >= self._busy_seconds):
                return
            del self._probed[address]
            target.close()

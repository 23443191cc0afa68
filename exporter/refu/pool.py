"""Every REFU target the exporter talks to: the configured ones, and those of ``/probe``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from exporter.modbus import pool
from exporter.modbus.target import Address
from exporter.refu.channels import RefuMapping
from exporter.refu.plan import plan_reads
from exporter.refu.target import RefuTarget


class TargetPool(pool.TargetPool[RefuTarget]):
    """Every REFU target the exporter talks to, each starting from the mapping's read plan.

    Configured targets (``/metrics``, made by ``configure``) stay; targets read through
    ``/probe`` are kept and forgotten as ``exporter.modbus.pool`` says. A device that is both
    configured and probed has two ``RefuTarget``s, so each job's counters count only its own
    requests.
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
        super().__init__(
            lambda address: self.configure(address, {}),
            max_targets=max_probed,
            idle_seconds=idle_seconds,
            busy_seconds=busy_seconds,
            clock=clock,
        )

    def configure(self, address: Address, settings: Mapping[str, Any]) -> RefuTarget:
        return RefuTarget(address, self.mapping, self.plan, settings=settings, clock=self._clock)

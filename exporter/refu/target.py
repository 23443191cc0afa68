"""One REFU device: the read plan learned for it, and what one scrape reads."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporter.modbus.target import RELEARN_PLAN_SECONDS, Address, ModbusTarget
from exporter.refu.channels import RefuChannel, RefuMapping
from exporter.refu.client import ExceptionAnswer
from exporter.refu.plan import RegisterBlock

#: What one scrape of a REFU reads: each channel's raw value.
RefuValues = dict[RefuChannel, Any]


class RefuTarget(ModbusTarget[RefuValues]):
    """Reads one REFU on demand: the mapping's read plan, blocks the device refuses split."""

    device = "REFU"

    def __init__(
        self,
        address: Address,
        mapping: RefuMapping,
        plan: Sequence[RegisterBlock],
        *,
        settings: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(address, clock=clock)
        self._mapping = mapping
        self._settings = dict(settings or {})
        #: The mapping's read plan, and this device's: blocks it refuses are split.
        self._mapping_plan = tuple(plan)
        self._plan = list(plan)
        self._planned_at = clock()

    async def _read_all(self) -> RefuValues:
        if self._clock() - self._planned_at > RELEARN_PLAN_SECONDS:
            self._plan = list(self._mapping_plan)
            self._planned_at = self._clock()
        read: RefuValues = {}
        index = 0
        while index < len(self._plan):
            block = self._plan[index]
            try:
                words = await self.read(block.function, block.start, block.count)
            except ExceptionAnswer as answer:
                self._plan[index : index + 1] = self._split(block, answer)
                continue
            read.update(block.values(words))
            index += 1

        read.update(self._mapping.derived_values(read, self._settings))
        return read

    def _split(self, block: RegisterBlock, answer: ExceptionAnswer) -> list[RegisterBlock]:
        """What to read instead of a refused block; a refused single channel is dropped."""
        if len(block.channels) > 1:
            return list(block.split())
        self._log.info(
            "REFU %s refuses register %#x (%s): %s; not read for the next hour",
            self.address.shown,
            block.start,
            block.channels[0].seed_id,
            answer,
        )
        return []

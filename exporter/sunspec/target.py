"""One SunSpec device: the chain learned for it, its read plan, and its scrape."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from exporter.modbus.target import RELEARN_PLAN_SECONDS, Address, ModbusTarget
from exporter.refu.client import DeviceError, ExceptionAnswer
from exporter.sunspec.chain import END_ID, Chain, discover
from exporter.sunspec.channels import SunSpecMapping
from exporter.sunspec.plan import ChainRead, ReadPlan, plan_reads, registers_read
from exporter.sunspec.points import Instance, decode_model


@dataclass(frozen=True)
class SunSpecValues:
    """What one scrape read: the chain, and every group instance of its decoded models."""

    chain: Chain
    instances: list[Instance]


class SunSpecTarget(ModbusTarget[SunSpecValues]):
    """Reads one SunSpec device: on first contact it walks the chain and plans the reads;
    later scrapes send only the planned reads. Reads the device refuses are split, and the
    chain is walked afresh every ``RELEARN_PLAN_SECONDS`` or as soon as the registers read
    no longer match it."""

    device = "SunSpec device"
    failure_reasons = (
        *ModbusTarget.failure_reasons,
        "not_sunspec",
        "invalid_chain",
        "chain_changed",
    )

    def __init__(
        self,
        address: Address,
        mapping: SunSpecMapping,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(address, clock=clock)
        self._mapping = mapping
        #: The plan learned for the device, and the reads it takes now (refused ones split).
        self._plan: ReadPlan | None = None
        self._reads: list[ChainRead] = []
        self._planned_at = clock()

    async def _read_all(self) -> SunSpecValues:
        plan = self._plan
        if plan is None or self._clock() - self._planned_at > RELEARN_PLAN_SECONDS:
            plan = await self._learn()
        answers = []
        index = 0
        while index < len(self._reads):
            read = self._reads[index]
            try:
                words = await self.read(3, read.start, read.count)
            except ExceptionAnswer as answer:
                if read.count < 2:  # not even one register: the chain is no longer there
                    self._plan = None
                    raise DeviceError(
                        "chain_changed", f"register {read.start} refused ({answer})"
                    ) from None
                self._reads[index : index + 1] = plan.split(read)
                continue
            answers.append((read, words))
            index += 1
        registers = registers_read(plan, answers)
        self._check(plan, registers)
        instances = []
        for entry, model in plan.decoded:
            at = entry.register - plan.start
            instances += decode_model(model, registers[at : at + entry.length + 2])
        return SunSpecValues(plan.chain, instances)

    async def _learn(self) -> ReadPlan:
        chain = await discover(functools.partial(self.read, 3), self._mapping.models)
        plan = plan_reads(chain)
        unknown = [
            m.id for m in chain.models if m.model is None and m.id not in self._mapping.unread
        ]
        self._log.info(
            "SunSpec device %s: base %d, models %s%s; %d reads per scrape",
            self.address.shown,
            chain.base,
            ", ".join(str(m.id) for m in chain.models),
            f" (no definition, not read: {', '.join(map(str, unknown))})" if unknown else "",
            len(plan.reads),
        )
        self._plan, self._reads, self._planned_at = plan, list(plan.reads), self._clock()
        return plan

    def _check(self, plan: ReadPlan, registers: list[int]) -> None:
        """The headers read must be the chain's; else it is walked again next scrape."""
        expected = [(m.register, m.id) for m, _ in plan.decoded]
        expected += [(m.register + 1, m.length) for m, _ in plan.decoded]
        if plan.reads_end_marker and plan.chain.end_marker is not None:
            expected.append((plan.chain.end_marker, END_ID))
        for register, value in expected:
            found = registers[register - plan.start]
            if found != value:
                self._plan = None
                raise DeviceError(
                    "chain_changed",
                    f"register {register} holds {found}, not {value}; the chain is walked again",
                )

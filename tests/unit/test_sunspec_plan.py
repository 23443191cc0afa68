"""Finding a SunSpec chain and planning its reads, against registers held in memory."""

from __future__ import annotations

import asyncio

import pytest

from exporter.refu.client import DeviceError, ExceptionAnswer
from exporter.sunspec.chain import Chain, ChainModel, discover
from exporter.sunspec.channels import load_sunspec_mapping
from exporter.sunspec.plan import ChainRead, plan_reads

MAPPING = load_sunspec_mapping()
#: The REFUstore 88K's chain: (model, length) from register 40002.
CHAIN_88K = [
    (1, 66),
    (103, 50),
    (120, 26),
    (121, 30),
    (123, 24),
    (64040, 3),
    (64041, 10),
    (64800, 14),
]


def registers_of(
    base: int, models: list[tuple[int, int]], end_marker: bool = True
) -> dict[int, int]:
    """A device's map: the marker, each model's header and zeros, the end marker."""
    registers = {base: 0x5375, base + 1: 0x6E53}
    at = base + 2
    for model_id, length in models:
        registers |= {at: model_id, at + 1: length} | {at + 2 + i: 0 for i in range(length)}
        at += 2 + length
    if end_marker:
        registers |= {at: 0xFFFF, at + 1: 0}
    return registers


class Device:
    """Reads from ``registers``; an address not there is refused (Modbus exception 2)."""

    def __init__(self, registers: dict[int, int]) -> None:
        self.registers = registers
        self.reads: list[tuple[int, int]] = []

    async def read(self, start: int, count: int) -> list[int]:
        self.reads.append((start, count))
        if any(r not in self.registers for r in range(start, start + count)):
            raise ExceptionAnswer(2)
        return [self.registers[r] for r in range(start, start + count)]


def walk(device: Device) -> Chain:
    return asyncio.run(discover(device.read, MAPPING.models))


def test_the_88k_chain_is_found_at_40000_and_walked_header_by_header():
    device = Device(registers_of(40000, CHAIN_88K))
    chain = walk(device)
    assert chain.base == 40000 and chain.end_marker == 40241
    assert [(m.id, m.register, m.length) for m in chain.models] == [
        (1, 40002, 66), (103, 40070, 50), (120, 40122, 26), (121, 40150, 30),
        (123, 40182, 24), (64040, 40208, 3), (64041, 40213, 10), (64800, 40225, 14),
    ]  # fmt: skip
    assert [m.model is not None for m in chain.models] == [True] * 5 + [False, False, True]
    assert device.reads == [(40000, 2), *[(m.register, 2) for m in chain.models], (40241, 2)]


@pytest.mark.parametrize("base", [0, 50000])
def test_the_marker_is_looked_for_at_40000_then_0_then_50000(base):
    chain = walk(Device(registers_of(base, [(1, 66), (101, 50), (124, 24)])))
    assert chain.base == base
    assert [m.id for m in chain.models] == [1, 101, 124]


def test_a_device_without_the_marker_is_not_sunspec():
    with pytest.raises(DeviceError) as raised:
        walk(Device({r: 0 for r in range(40000, 40010)}))
    assert raised.value.reason == "not_sunspec"


def test_a_chain_without_an_end_marker_ends_where_the_registers_do():
    chain = walk(Device(registers_of(40000, [(1, 66), (103, 50)], end_marker=False)))
    assert [m.id for m in chain.models] == [1, 103] and chain.end_marker is None


def test_the_88k_is_read_in_two_requests_with_the_end_marker():
    plan = plan_reads(walk(Device(registers_of(40000, CHAIN_88K))))
    assert [(r.start, r.count) for r in plan.reads] == [(40002, 120), (40122, 121)]
    assert plan.reads_end_marker
    assert [m.id for m, _ in plan.decoded] == [1, 103, 120, 121, 123, 64800]


def models_from(start: int, models: list[tuple[int, int]]) -> list[ChainModel]:
    found, at = [], start
    for model_id, length in models:
        found.append(ChainModel(at, model_id, length, MAPPING.models.get(model_id)))
        at += 2 + length
    return found


def test_models_not_read_are_left_out_at_the_ends_of_a_read():
    models = models_from(40002, [(64040, 3), (1, 66), (64041, 10)])
    plan = plan_reads(Chain(40000, tuple(models), None))
    assert [(r.start, r.count) for r in plan.reads] == [(40007, 68)]


def test_a_model_longer_than_a_read_is_cut_and_the_next_read_goes_on_from_there():
    models = models_from(40002, [(1, 66), (160, 8 + 20 * 12), (103, 50)])
    plan = plan_reads(Chain(40000, tuple(models), None))
    assert all(r.count <= 125 for r in plan.reads)
    assert plan.reads[0] == ChainRead(40002, 68)  # model 1 alone: 160 does not fit
    covered = [register for r in plan.reads for register in range(r.start, r.end)]
    assert covered == list(range(40002, models[-1].end))


def test_a_refused_read_is_split_at_the_model_boundary_nearest_its_middle():
    plan = plan_reads(walk(Device(registers_of(40000, CHAIN_88K))))
    left, right = plan.split(plan.reads[1])
    assert (left.start, left.end, right.start, right.end) == (40122, 40182, 40182, 40243)
    single = ChainRead(40070, 52)
    assert plan.split(single) == (ChainRead(40070, 26), ChainRead(40096, 26))

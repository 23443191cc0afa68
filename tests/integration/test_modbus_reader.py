"""The read-only Modbus TCP client against a real pymodbus server and a lying one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pymodbus.simulator import DataType, SimData, SimDevice

from exporter.refu.client import DeviceError, ModbusReader
from exporter.simulate import free_port
from exporter.simulate.modbus import ModbusSimulator
from tests.support.lying_modbus import LyingModbusServer

COILS = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0]
DISCRETE_INPUTS = [1 - bit for bit in COILS]
HOLDING_REGISTERS = [0x0000, 0x7FFF, 0x8000, 0xFFFF, 0x1234]
INPUT_REGISTERS = [0xABCD, 0x0001, 0xFFFE]
FIRST = 100


class Holdings(ModbusSimulator):
    """A device holding known coils, discrete inputs and registers from address 100."""

    def device(self) -> SimDevice:
        def bits(values: list[int]) -> list[SimData]:
            return [SimData(FIRST, values=[bool(v) for v in values], datatype=DataType.BITS)]

        def registers(values: list[int]) -> list[SimData]:
            return [SimData(FIRST, values=values, datatype=DataType.REGISTERS)]

        return SimDevice(
            id=0,
            simdata=(
                bits(COILS),
                bits(DISCRETE_INPUTS),
                registers(HOLDING_REGISTERS),
                registers(INPUT_REGISTERS),
            ),
        )


@pytest.fixture(scope="module")
def holdings() -> Iterator[Holdings]:
    with Holdings("127.0.0.1", free_port()) as device:
        yield device


async def read_all(port: int, reads: list[tuple[int, int, int]]) -> list[list[int]]:
    reader = ModbusReader("127.0.0.1", port, 1)
    await reader.connect()
    try:
        return [await reader.read(*read) for read in reads]
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("function", "held"),
    [(1, COILS), (2, DISCRETE_INPUTS), (3, HOLDING_REGISTERS), (4, INPUT_REGISTERS)],
    ids=["coils", "discrete_inputs", "holding_registers", "input_registers"],
)
def test_each_read_function_answers_what_the_device_holds(holdings, function, held):
    """Whole spans, a single item, and spans that start or end inside a byte of bits."""
    spans = [(0, len(held)), (len(held) - 1, 1), (1, len(held) - 2), (3, 9)]
    reads = [
        (function, FIRST + start, count) for start, count in spans if start + count <= len(held)
    ]
    answers = asyncio.run(read_all(holdings.port, reads))
    assert answers == [held[r - FIRST : r - FIRST + n] for _, r, n in reads]


@pytest.fixture(scope="module")
def counting() -> Iterator[LyingModbusServer]:
    """A device that answers zeros and counts the requests it gets."""
    with LyingModbusServer() as device:
        yield device


@pytest.mark.parametrize("function", [5, 6, 15, 16, 22, 23, 0, 7, 43])
def test_no_other_function_code_is_ever_sent(counting, function):
    """The client builds read requests only: anything else fails before a byte is sent."""
    counting.requests = 0
    port = int(counting.address.rpartition(":")[2])
    with pytest.raises(ValueError, match=f"not a read function code: {function}"):
        asyncio.run(read_all(port, [(function, 0, 1)]))
    assert asyncio.run(read_all(port, [(3, 0, 1)])) == [[0]]
    assert counting.requests == 1  # the read after it


def test_a_read_before_connecting_sends_nothing():
    reader = ModbusReader("127.0.0.1", 9, 1)
    with pytest.raises(DeviceError, match="connection_closed: not connected"):
        asyncio.run(reader.read(3, 0, 1))

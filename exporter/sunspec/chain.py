"""Finding a device's SunSpec models: the "SunS" marker, then the chain of model headers.

The marker sits at one of the base registers 40000, 0 or 50000 (tried in that order);
the first model's header (ID, L) follows it, and each model takes its L registers plus
the two of its header, until the end marker (ID 0xFFFF). Each header is one read of two
registers, so the walk works on any device whatever else it allows; it is done once per
target and again when the chain read no longer matches it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from exporter.refu.client import DeviceError, ExceptionAnswer
from exporter.sunspec.points import Model

#: Where the marker may be, in the order tried.
BASE_REGISTERS = (40000, 0, 50000)
#: "SunS", two registers.
MARKER = (0x5375, 0x6E53)
#: The ID of the end marker.
END_ID = 0xFFFF
#: Most models a chain may have before the walk is given up as runaway.
MAX_MODELS = 256
#: Registers 0..65535: no model can end past this.
REGISTER_SPACE = 0x10000

#: Reads registers: (first register, count) -> their values; raises ExceptionAnswer when
#: the device refuses them for good, DeviceError for any other trouble.
ReadRegisters = Callable[[int, int], Awaitable[list[int]]]


@dataclass(frozen=True)
class ChainModel:
    """One model of a device's chain: where its header is, its ID and length, and its
    definition (None for a model the exporter cannot decode or does not read)."""

    register: int
    id: int
    length: int
    model: Model | None

    @property
    def end(self) -> int:
        """One past its last register."""
        return self.register + 2 + self.length


@dataclass(frozen=True)
class Chain:
    base: int
    models: tuple[ChainModel, ...]
    #: Where the end marker is; None when the device ends the chain without one.
    end_marker: int | None


async def discover(read: ReadRegisters, models: Mapping[int, Model]) -> Chain:
    """The chain of the device that ``read`` reads; DeviceError if it has none."""
    base = await _find_base(read)
    found: list[ChainModel] = []
    register = base + len(MARKER)
    while len(found) < MAX_MODELS and register + 2 <= REGISTER_SPACE:
        try:
            model_id, length = await read(register, 2)
        except ExceptionAnswer:
            return Chain(base, tuple(found), None)  # the map ends without an end marker
        if model_id == END_ID:
            return Chain(base, tuple(found), register)
        found.append(ChainModel(register, model_id, length, models.get(model_id)))
        register = found[-1].end
    raise DeviceError("invalid_chain", f"no end of the SunSpec chain after {len(found)} models")


async def _find_base(read: ReadRegisters) -> int:
    for base in BASE_REGISTERS:
        try:
            if tuple(await read(base, len(MARKER))) == MARKER:
                return base
        except ExceptionAnswer:
            pass  # refused: not here
    bases = ", ".join(map(str, BASE_REGISTERS))
    raise DeviceError("not_sunspec", f"no SunSpec marker at register {bases}")

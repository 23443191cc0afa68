"""Where a REFU channel's value comes from, and how register words become a number.

A channel is either read from registers (``Register``) or is not on the bus at all:
a ``Constant`` of the driver, a ``Configured`` value of the target, or a ``BitCount``
summarising other channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: The only Modbus function codes this exporter can issue: reads. There is no write path.
READ_FUNCTIONS: Mapping[int, str] = {
    1: "coils",
    2: "discrete inputs",
    3: "holding registers",
    4: "input registers",
}


class RegisterType(StrEnum):
    BOOL = "bool"
    UINT16 = "uint16"
    INT16 = "int16"
    UINT32 = "uint32"
    INT32 = "int32"

    @property
    def words(self) -> int:
        return 2 if self in (RegisterType.UINT32, RegisterType.INT32) else 1

    @property
    def signed(self) -> bool:
        return self in (RegisterType.INT16, RegisterType.INT32)


class WordOrder(StrEnum):
    MSW_FIRST = "msw_first"
    LSW_FIRST = "lsw_first"


@dataclass(frozen=True)
class Register:
    function: int
    address: int
    type: RegisterType
    word_order: WordOrder = WordOrder.MSW_FIRST

    @property
    def end(self) -> int:
        """One past the last address this value occupies."""
        return self.address + self.type.words

    def decode(self, words: Sequence[int]) -> int:
        """The value of this register's words (big-endian within a word)."""
        if self.type.words == 2:
            high, low = words if self.word_order is WordOrder.MSW_FIRST else reversed(words)
            value = (high << 16) | low
            bits = 32
        else:
            value = words[0]
            bits = 16
        if self.type.signed and value >= 1 << (bits - 1):
            value -= 1 << bits
        return value


@dataclass(frozen=True)
class Constant:
    value: int | float | str


@dataclass(frozen=True)
class Configured:
    """A key of the target's configuration; ``default`` may itself be another ``Configured``."""

    key: str
    default: int | float | str | Configured
    plus: float = 0


@dataclass(frozen=True)
class BitCount:
    """The number of set bits, under a mask, in other channels (named by source)."""

    parts: tuple[tuple[str, int], ...]


RefuAddress = Register | Constant | Configured | BitCount


def parse_address(entry: Mapping[str, Any]) -> RefuAddress:
    """The address part of one mapping entry; raises ValueError naming what is wrong."""
    if "value" in entry:
        if "register" in entry:
            raise ValueError("an entry has either 'register' or 'value', not both")
        return _parse_value(entry["value"])
    function = entry.get("function", 4)
    if function not in READ_FUNCTIONS:
        raise ValueError(f"function {function!r} is not a Modbus read (one of 1, 2, 3, 4)")
    address = entry["register"]
    if isinstance(address, bool) or not isinstance(address, int) or not 0 <= address <= 0xFFFF:
        raise ValueError(f"register {address!r} must be an address 0..65535")
    try:
        register_type = RegisterType(entry["type"])
        word_order = WordOrder(entry.get("word_order", WordOrder.MSW_FIRST))
    except ValueError as exc:
        raise ValueError(f"unknown type or word order: {exc}") from None
    if (register_type is RegisterType.BOOL) != (function in (1, 2)):
        raise ValueError("type 'bool' goes with functions 1 and 2, and only there")
    if address + register_type.words > 0x10000:
        raise ValueError(f"register {address:#x} runs past the end of the address space")
    return Register(function, address, register_type, word_order)


def _parse_value(value: Any) -> Constant | Configured | BitCount:
    if not isinstance(value, dict) or len(value.keys() & {"constant", "config", "count_bits"}) != 1:
        raise ValueError("'value' needs exactly one of 'constant', 'config', 'count_bits'")
    if "constant" in value:
        return Constant(value["constant"])
    if "config" in value:
        default = value.get("default")
        if default is None:
            raise ValueError(f"configured value {value['config']!r} needs a 'default'")
        if isinstance(default, dict):
            default = _parse_value(default)
            if not isinstance(default, Configured):
                raise ValueError("a default can only refer to another configured value")
        plus = value.get("plus", 0)
        return Configured(str(value["config"]), default, float(plus))
    parts = value["count_bits"]
    if not isinstance(parts, list) or not parts:
        raise ValueError("'count_bits' must be a list of {source, mask}")
    return BitCount(tuple((str(p["source"]), int(p.get("mask", 0xFFFF))) for p in parts))

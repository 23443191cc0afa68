"""The REFU's channels: where each value comes from, and the values not on the bus.

A channel is either read from registers (``Register``) or is not on the bus at all:
a ``Constant`` of the driver, a ``Configured`` value of the target, or a ``BitCount``
summarising other channels. ``load_refu_mapping`` reads ``mappings/refu.yaml``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeGuard

from exporter.config import SettingCheck
from exporter.model import (
    Channel,
    DeviceMapping,
    default_mapping_path,
    load_mapping,
    naming,
)

#: The only Modbus function codes this exporter can issue, reads: coils, discrete inputs,
#: holding registers, input registers. There is no write path.
READ_FUNCTIONS = (1, 2, 3, 4)


class RegisterType(StrEnum):
    """A register value's type; each knows its width in registers and its sign."""

    BOOL = "bool", 1, False
    UINT16 = "uint16", 1, False
    INT16 = "int16", 1, True
    UINT32 = "uint32", 2, False
    INT32 = "int32", 2, True

    words: int
    signed: bool

    # The defaults are for type checkers only: RegisterType("int16") looks a member up.
    def __new__(cls, value: str, words: int = 1, signed: bool = False) -> RegisterType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.words, member.signed = words, signed
        return member


class WordOrder(StrEnum):
    MSW_FIRST = "msw_first"
    LSW_FIRST = "lsw_first"


@dataclass(frozen=True)
class Register:
    """Registers holding one value: the read function, the first register, the type."""

    function: int
    register: int
    type: RegisterType
    word_order: WordOrder = WordOrder.MSW_FIRST

    @property
    def end(self) -> int:
        """One past the last register this value occupies."""
        return self.register + self.type.words

    def decode(self, words: Sequence[int], at: int = 0) -> int:
        """The value whose first word is ``words[at]`` (big-endian within a word)."""
        value = words[at]
        if self.type.words == 2:
            high, low = words[at : at + 2]
            if self.word_order is WordOrder.LSW_FIRST:
                high, low = low, high
            value = high << 16 | low
        bits = 16 * self.type.words
        if self.type.signed and value >> (bits - 1):
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


RefuLocation = Register | Constant | Configured | BitCount


def parse_location(entry: Mapping[str, Any]) -> RefuLocation:
    """Where one mapping entry's value comes from; raises ValueError naming what is wrong."""
    if "value" in entry:
        if "register" in entry:
            raise ValueError("an entry has either 'register' or 'value', not both")
        return _parse_value(entry["value"])
    function = entry.get("function", 4)
    if function not in READ_FUNCTIONS:
        raise ValueError(f"function {function!r} is not a Modbus read (one of 1, 2, 3, 4)")
    register = entry["register"]
    if isinstance(register, bool) or not isinstance(register, int) or not 0 <= register <= 0xFFFF:
        raise ValueError(f"register {register!r} must be a number 0..65535")
    try:
        register_type = RegisterType(entry["type"])
        word_order = WordOrder(entry.get("word_order", WordOrder.MSW_FIRST))
    except ValueError as exc:
        raise ValueError(f"unknown type or word order: {exc}") from None
    if (register_type is RegisterType.BOOL) != (function in (1, 2)):
        raise ValueError("type 'bool' goes with functions 1 and 2, and only there")
    if register + register_type.words > 0x10000:
        raise ValueError(f"register {register:#x} runs past the last register (0xffff)")
    return Register(function, register, register_type, word_order)


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
    if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
        raise ValueError("'count_bits' must be a list of {source, mask}")
    return BitCount(tuple((str(p["source"]), int(p.get("mask", 0xFFFF))) for p in parts))


RefuChannel = Channel[RefuLocation]


@dataclass(frozen=True)
class RefuMapping:
    model: DeviceMapping[RefuLocation]
    #: The channels read from registers.
    register_channels: tuple[Channel[Register], ...]
    #: The channels that are not registers; for a bit count, its channels and masks.
    derived: tuple[tuple[RefuChannel, tuple[tuple[RefuChannel, int], ...]], ...]

    @property
    def channels(self) -> tuple[RefuChannel, ...]:
        return self.model.channels

    @property
    def settings(self) -> dict[str, SettingCheck]:
        """The keys a target's configuration may set (alias, capacity, ...), with their checks."""
        checks: dict[str, SettingCheck] = {}
        for channel in self.channels:
            setting: RefuLocation | int | float | str = channel.location
            while isinstance(setting, Configured):
                checks[setting.key] = _setting_check(setting)
                setting = setting.default
        return checks

    def derived_values(
        self, read: Mapping[RefuChannel, int], settings: Mapping[str, Any]
    ) -> dict[RefuChannel, Any]:
        """Values of the channels that are not registers, given the registers read."""
        values: dict[RefuChannel, Any] = {}
        for channel, parts in self.derived:
            location = channel.location
            if isinstance(location, Constant):
                values[channel] = location.value
            elif isinstance(location, Configured):
                values[channel] = _configured(location, settings)
            else:
                words = [(read[counted], mask) for counted, mask in parts if counted in read]
                if words:
                    values[channel] = sum((word & mask).bit_count() for word, mask in words)
        return values


def _setting_check(setting: Configured) -> SettingCheck:
    """How a configured value is checked: text if its default is text, else a number.

    The key's unit suffix sets the range: ``_percent`` is 0..100, any other number > 0.
    """
    if isinstance(setting.default, str):
        return lambda value: None if isinstance(value, str) else f"must be text, got {value!r}"
    percent = setting.key.endswith("_percent")

    def check(value: Any) -> str | None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and (0 <= value <= 100 if percent else 0 < value < math.inf):
            return None
        return f"must be a number {'0..100' if percent else '> 0'}, got {value!r}"

    return check


def _configured(setting: Configured, settings: Mapping[str, Any]) -> Any:
    value = settings.get(setting.key, setting.default)
    if isinstance(value, Configured):
        value = _configured(value, settings)
    return value + setting.plus if setting.plus else value


def load_refu_mapping(path: Path | None = None) -> RefuMapping:
    """The REFU mapping at ``path``; the shipped one (the default) is read once per process."""
    return _read_refu_mapping(path) if path else _shipped_refu_mapping()


@functools.cache
def _shipped_refu_mapping() -> RefuMapping:
    return _read_refu_mapping(default_mapping_path("refu"))


def _read_refu_mapping(path: Path) -> RefuMapping:
    """The mapping, once every bit count's channels exist and no two values share a register."""
    mapping = load_mapping(path, parse_location)
    by_seed_id = {channel.seed_id: channel for channel in mapping.channels}
    owners: dict[tuple[int, int], str] = {}
    derived = []
    for channel in mapping.channels:
        location = channel.location
        with naming(f"{path}: {channel.seed_id}"):
            if isinstance(location, Register):
                _own_registers(owners, location, channel.seed_id)
                continue
            parts = location.parts if isinstance(location, BitCount) else ()
            unknown = [seed_id for seed_id, _ in parts if seed_id not in by_seed_id]
            if unknown:
                raise ValueError(f"counts unknown {unknown}")
            derived.append((channel, tuple((by_seed_id[s], mask) for s, mask in parts)))
    return RefuMapping(mapping, tuple(filter(_is_register, mapping.channels)), tuple(derived))


def _is_register(channel: RefuChannel) -> TypeGuard[Channel[Register]]:
    return isinstance(channel.location, Register)


def _own_registers(owners: dict[tuple[int, int], str], location: Register, seed_id: str) -> None:
    """Marks the registers of ``location`` as ``seed_id``'s; refuses one already owned."""
    for register in range(location.register, location.end):
        other = owners.setdefault((location.function, register), seed_id)
        if other != seed_id:
            raise ValueError(
                f"register {register:#x} (function {location.function}) overlaps {other}"
            )

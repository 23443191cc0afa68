"""SunSpec point types, and how the registers of one model decode into raw values.

A model is a tree of groups: a group's points come first, then its child groups, each
once or repeated (a fixed number of times, as often as a count point says, or as often as
the model's length leaves room for). A point's value is absent (None) when the device
sends the type's "not implemented" value, or when its scale factor is not implemented;
otherwise it is the number sent times ten to the power of its scale factor, which is read
from the same registers (a ``sunssf`` point of its group or of an enclosing one).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.metrics import ChannelFamilies
from exporter.model import Channel, Kind

#: A type's decoder: (registers, index of the point's first one, its size) -> value or None.
Decoder = Callable[[Sequence[int], int, int], Any]


@dataclass(frozen=True)
class PointType:
    """How a point of one SunSpec type is read; ``words`` 0 means the point's own size."""

    words: int
    decode: Decoder
    #: The kind of metric it makes; None for scale factors and padding (not exported).
    kind: Kind | None = Kind.GAUGE


def _integer(words: int, signed: bool, missing: int | None) -> Decoder:
    """An integer of ``words`` registers, most significant first; ``missing`` is the
    not-implemented pattern (as the unsigned number sent)."""
    bits = 16 * words

    def decode(registers: Sequence[int], at: int, size: int) -> int | None:
        raw = 0
        for word in registers[at : at + words]:
            raw = raw << 16 | word
        if raw == missing:
            return None
        return raw - (1 << bits) if signed and raw >> (bits - 1) else raw

    return decode


def _float(words: int) -> Decoder:
    layout = struct.Struct(">f" if words == 2 else ">d")

    def decode(registers: Sequence[int], at: int, size: int) -> float | None:
        (value,) = layout.unpack(_bytes(registers, at, words))
        return None if math.isnan(value) else float(value)

    return decode


def _bytes(registers: Sequence[int], at: int, words: int) -> bytes:
    return b"".join(word.to_bytes(2, "big") for word in registers[at : at + words])


def _string(registers: Sequence[int], at: int, size: int) -> str | None:
    text = _bytes(registers, at, size).split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def _ipv4(registers: Sequence[int], at: int, size: int) -> str | None:
    raw = _integer(2, False, 0)(registers, at, 2)
    return None if raw is None else str(ipaddress.IPv4Address(raw))


def _ipv6(registers: Sequence[int], at: int, size: int) -> str | None:
    raw = _bytes(registers, at, 8)
    return str(ipaddress.IPv6Address(raw)) if any(raw) else None


def _eui48(registers: Sequence[int], at: int, size: int) -> str | None:
    raw = _bytes(registers, at, 4)[2:]
    if raw in (bytes(6), b"\xff" * 6):
        return None
    return ":".join(f"{byte:02x}" for byte in raw)


_ALL_ONES_16, _ALL_ONES_32, _ALL_ONES_64 = 0xFFFF, 0xFFFF_FFFF, (1 << 64) - 1

#: Every SunSpec point type, by its name in the model definitions.
POINT_TYPES: dict[str, PointType] = {
    "int16": PointType(1, _integer(1, True, 0x8000)),
    "uint16": PointType(1, _integer(1, False, _ALL_ONES_16)),
    "count": PointType(1, _integer(1, False, _ALL_ONES_16)),
    "acc16": PointType(1, _integer(1, False, 0), Kind.COUNTER),
    "enum16": PointType(1, _integer(1, False, _ALL_ONES_16), Kind.ENUM),
    "bitfield16": PointType(1, _integer(1, False, _ALL_ONES_16), Kind.BITFIELD),
    "int32": PointType(2, _integer(2, True, 0x8000_0000)),
    "uint32": PointType(2, _integer(2, False, _ALL_ONES_32)),
    "acc32": PointType(2, _integer(2, False, 0), Kind.COUNTER),
    "enum32": PointType(2, _integer(2, False, _ALL_ONES_32), Kind.ENUM),
    "bitfield32": PointType(2, _integer(2, False, _ALL_ONES_32), Kind.BITFIELD),
    "int64": PointType(4, _integer(4, True, 1 << 63)),
    "uint64": PointType(4, _integer(4, False, _ALL_ONES_64)),
    "acc64": PointType(4, _integer(4, False, 0), Kind.COUNTER),
    "float32": PointType(2, _float(2)),
    "float64": PointType(4, _float(4)),
    "string": PointType(0, _string, Kind.INFO),
    "ipaddr": PointType(2, _ipv4, Kind.INFO),
    "ipv6addr": PointType(8, _ipv6, Kind.INFO),
    "eui48": PointType(4, _eui48, Kind.INFO),
    "sunssf": PointType(1, _integer(1, True, 0x8000), None),
    "pad": PointType(1, _integer(1, False, None), None),
}


def times_power_of_ten(raw: int | float, exponent: int) -> int | float:
    """``raw`` x 10^``exponent``, exact where it can be: 2345 x 10^-2 is 23.45."""
    power = int(10 ** abs(exponent))
    return raw * power if exponent >= 0 else raw / power


@dataclass(frozen=True)
class PointRef:
    """A point of the same group (``depth`` 0) or of the group ``depth`` levels up: where a
    scale factor or a count is read."""

    depth: int
    offset: int
    type: PointType

    def value(self, registers: Sequence[int], starts: Sequence[int]) -> Any:
        at = starts[-1 - self.depth] + self.offset
        return self.type.decode(registers, at, 1) if at < len(registers) else None


@dataclass(frozen=True)
class Point:
    """Where a channel's value is: registers from the start of its group, the type, the size,
    and its scale factor (a point, a fixed power of ten, or none)."""

    offset: int
    type: PointType
    size: int
    scale_factor: PointRef | int | None = None

    def value(self, registers: Sequence[int], starts: Sequence[int]) -> Any:
        """The point's value in the group instance starting at ``starts[-1]``."""
        raw = self.type.decode(registers, starts[-1] + self.offset, self.size)
        exponent = self.scale_factor
        if raw is None or exponent is None:
            return raw
        if isinstance(exponent, PointRef):
            exponent = exponent.value(registers, starts)
            if exponent is None:  # not implemented: the value's scale is unknown
                return None
        return times_power_of_ten(raw, exponent)


#: Repeat a child group as often as the rest of the model has room for.
TO_THE_END = 0


@dataclass(frozen=True, eq=False)
class Group:
    """A group of a model: its exported points as channels, the registers of its own points,
    and the groups it contains, each with how often it repeats. ``index_labels`` number the
    instances of this group and of the repeated groups around it; ``index_label`` is this
    group's own ("" for a group that is not repeated)."""

    path: str
    channels: tuple[Channel[Point], ...]
    size: int
    children: tuple[tuple[Group, int | PointRef], ...]
    index_labels: tuple[str, ...]
    index_label: str

    @functools.cached_property
    def families(self) -> ChannelFamilies:
        """The families of the channels: made once, when a device first has the group."""
        return ChannelFamilies(self.channels, ("target", *self.index_labels))


@dataclass(frozen=True, eq=False)
class Model:
    id: int
    name: str
    top: Group


#: One instance of a group in the registers read: the group, the numbers of the repeated
#: groups it is in (outermost first), and its channels' raw values.
Instance = tuple[Group, tuple[str, ...], list[Any]]


def decode_model(model: Model, registers: Sequence[int]) -> list[Instance]:
    """Every group instance of ``model`` in ``registers``, which start at its ID register."""
    instances: list[Instance] = []
    _decode_group(model.top, registers, 0, (), (), instances)
    return instances


def _decode_group(
    group: Group,
    registers: Sequence[int],
    at: int,
    starts: tuple[int, ...],
    numbers: tuple[str, ...],
    instances: list[Instance],
) -> int:
    """Decodes the group instance at ``at`` into ``instances``; returns where it ends. A
    point past the end (a device's model shorter than its definition) is absent."""
    end = len(registers)
    starts = (*starts, at)
    raws = [
        point.value(registers, starts) if at + point.offset + point.size <= end else None
        for point in (channel.location for channel in group.channels)
    ]
    instances.append((group, numbers, raws))
    at += group.size
    for child, count in group.children:
        if count == TO_THE_END:
            times = (end - at) // child.size if child.size else 0
        elif isinstance(count, PointRef):
            times = count.value(registers, starts) or 0
        else:
            times = count
        for number in range(1, times + 1):
            if at >= end:
                break
            inner = (*numbers, str(number)) if child.index_label else numbers
            at = _decode_group(child, registers, at, starts, inner, instances)
    return at

"""The read plan: which Modbus requests read every register channel.

Registers of one function code are coalesced into blocks as long as a block stays within
the protocol's 125-register limit and no hole between two channels is wider than
``max_gap``. A device may refuse a block (for instance one spanning an unused register):
``RegisterBlock.split`` then gives two smaller blocks to try instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from exporter.model import Channel
from exporter.refu.channels import RefuChannel, Register, RegisterType

#: Most registers one Modbus read may return (function codes 3 and 4).
MAX_REGISTERS_PER_READ = 125
#: Most coils or discrete inputs one read may return (function codes 1 and 2).
MAX_BITS_PER_READ = 2000


@dataclass(frozen=True)
class RegisterBlock:
    """One Modbus read request and the channels its answer holds."""

    function: int
    start: int
    count: int
    channels: tuple[Channel[Register], ...]
    #: The channels of one word (most of them) and the offset of each one's word in the
    #: answer, unsigned and signed: taken from the answer without a call each.
    _unsigned: _Words = field(init=False, repr=False, compare=False)
    _signed: _Words = field(init=False, repr=False, compare=False)
    #: Every other channel, with where its words are in the answer.
    _wide: tuple[tuple[Channel[Register], int, int], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        unsigned: list[tuple[Channel[Register], int]] = []
        signed: list[tuple[Channel[Register], int]] = []
        wide = []
        for channel in self.channels:
            location, offset = channel.location, channel.location.register - self.start
            if location.type is RegisterType.UINT16:
                unsigned.append((channel, offset))
            elif location.type is RegisterType.INT16:
                signed.append((channel, offset))
            else:
                wide.append((channel, offset, location.end - self.start))
        object.__setattr__(self, "_unsigned", _columns(unsigned))
        object.__setattr__(self, "_signed", _columns(signed))
        object.__setattr__(self, "_wide", tuple(wide))

    def values(self, words: Sequence[int]) -> dict[RefuChannel, int]:
        """Each channel of the block with its decoded raw value."""
        (unsigned, at), (signed, signed_at) = self._unsigned, self._signed
        values: dict[RefuChannel, int] = dict(
            zip(unsigned, map(words.__getitem__, at), strict=True)
        )
        signed_words = map(words.__getitem__, signed_at)
        values.update(
            zip(signed, [w - 0x10000 if w & 0x8000 else w for w in signed_words], strict=True)
        )
        for channel, start, end in self._wide:
            values[channel] = channel.location.decode(words[start:end])
        return values

    def split(self) -> tuple[RegisterBlock, RegisterBlock]:
        """Two blocks holding this block's channels, cut at the widest hole, else the middle."""
        if len(self.channels) < 2:
            raise ValueError("a block of one channel cannot be split")
        holes = [
            (after.location.register - before.location.end, index)
            for index, (before, after) in enumerate(
                zip(self.channels, self.channels[1:], strict=False), 1
            )
        ]
        widest, at = max(holes, key=lambda hole: (hole[0], -hole[1]))
        if widest == 0:
            at = len(self.channels) // 2
        return _block(self.channels[:at]), _block(self.channels[at:])


#: Channels and the offset of each one's word in an answer.
_Words = tuple[tuple[Channel[Register], ...], tuple[int, ...]]


def _columns(pairs: list[tuple[Channel[Register], int]]) -> _Words:
    return tuple(c for c, _ in pairs), tuple(offset for _, offset in pairs)


def plan_reads(channels: tuple[Channel[Register], ...], max_gap: int) -> tuple[RegisterBlock, ...]:
    """The fewest blocks that read all ``channels`` within the size and gap limits."""
    ordered = sorted(channels, key=lambda c: (c.location.function, c.location.register))
    blocks: list[RegisterBlock] = []
    current: list[Channel[Register]] = []
    for channel in ordered:
        if current and _fits(current, channel, max_gap):
            current.append(channel)
            continue
        if current:
            blocks.append(_block(current))
        current = [channel]
    if current:
        blocks.append(_block(current))
    return tuple(blocks)


def _fits(block: list[Channel[Register]], channel: Channel[Register], max_gap: int) -> bool:
    first, last, new = block[0].location, block[-1].location, channel.location
    limit = MAX_BITS_PER_READ if new.function in (1, 2) else MAX_REGISTERS_PER_READ
    return (
        new.function == first.function
        and new.register - last.end <= max_gap
        and new.end - first.register <= limit
    )


def _block(channels: Sequence[Channel[Register]]) -> RegisterBlock:
    start = channels[0].location.register
    end = max(channel.location.end for channel in channels)
    return RegisterBlock(channels[0].location.function, start, end - start, tuple(channels))

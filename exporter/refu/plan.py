"""The read plan: which Modbus requests read every register channel.

Registers of one function code are coalesced into blocks as long as a block stays within
the protocol's 125-register limit and no hole between two channels is wider than
``max_gap``. A device may refuse a block (for instance one spanning an unused register):
``RegisterBlock.split`` then gives two smaller blocks to try instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from exporter.model import Channel
from exporter.refu.channels import RefuChannel, Register

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

    def values(self, words: Sequence[int]) -> dict[RefuChannel, int]:
        """Each channel of the block with its decoded raw value."""
        start = self.start
        return {c: c.location.decode(words, c.location.register - start) for c in self.channels}

    def split(self) -> tuple[RegisterBlock, RegisterBlock]:
        """Two blocks holding this block's channels, cut at the widest hole, else the middle."""
        if len(self.channels) < 2:
            raise ValueError("a block of one channel cannot be split")
        holes = [
            after.location.register - before.location.end
            for before, after in pairwise(self.channels)
        ]
        widest = max(holes)
        at = holes.index(widest) + 1 if widest else len(self.channels) // 2
        return _block(self.channels[:at]), _block(self.channels[at:])


def plan_reads(channels: tuple[Channel[Register], ...], max_gap: int) -> tuple[RegisterBlock, ...]:
    """The fewest blocks that read all ``channels`` within the size and gap limits."""
    ordered = sorted(channels, key=lambda c: (c.location.function, c.location.register))
    blocks: list[list[Channel[Register]]] = []
    for channel in ordered:
        if blocks and _fits(blocks[-1], channel, max_gap):
            blocks[-1].append(channel)
        else:
            blocks.append([channel])
    return tuple(map(_block, blocks))


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

"""The read plan of a chain: the fewest read requests that hold every model to decode.

Whole models are packed into reads of at most 125 registers, so that a value and its scale
factor arrive in the same answer; only a model longer than a read is cut. A read may span a
model it does not decode (unknown, or not read on purpose) on its way to the next one, and
takes the end marker along when it fits, so that a changed chain is noticed. A device may
refuse a read: ``split`` then gives two smaller ones to try instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exporter.refu.plan import MAX_REGISTERS_PER_READ
from exporter.sunspec.chain import Chain, ChainModel
from exporter.sunspec.points import Model


@dataclass(frozen=True)
class ChainRead:
    """One read request: ``count`` holding registers from ``start``."""

    start: int
    count: int

    @property
    def end(self) -> int:
        return self.start + self.count


@dataclass(frozen=True)
class ReadPlan:
    chain: Chain
    reads: tuple[ChainRead, ...]
    #: The models the reads hold, to decode and check, with their definitions.
    decoded: tuple[tuple[ChainModel, Model], ...]
    #: Whether the reads hold the end marker (then it is checked too).
    reads_end_marker: bool

    @property
    def start(self) -> int:
        return self.reads[0].start if self.reads else self.chain.base

    def split(self, read: ChainRead) -> tuple[ChainRead, ChainRead]:
        """Two reads for the registers of ``read``: cut at the model boundary nearest its
        middle, else at the middle."""
        if read.count < 2:
            raise ValueError("a read of one register cannot be split")
        middle = read.start + read.count // 2
        inside = [m.register for m in self.chain.models if read.start < m.register < read.end]
        cut = min(inside, key=lambda register: abs(register - middle), default=middle)
        return ChainRead(read.start, cut - read.start), ChainRead(cut, read.end - cut)


def plan_reads(chain: Chain, limit: int = MAX_REGISTERS_PER_READ) -> ReadPlan:
    """The plan for ``chain``: reads of at most ``limit`` registers."""
    pieces = [(m.register, m.end, m.model is not None) for m in chain.models]
    if chain.end_marker is not None:
        pieces.append((chain.end_marker, chain.end_marker + 2, False))
    reads: list[ChainRead] = []
    start = wanted_end = None
    for first, end, needed in pieces:
        if start is not None and end - start <= limit:
            wanted_end = end if needed or first == chain.end_marker else wanted_end
            continue
        if start is not None and wanted_end is not None:
            reads.append(ChainRead(start, wanted_end - start))
        start = wanted_end = None
        if not needed:
            continue  # a read never starts with registers nobody needs
        while end - first > limit:
            reads.append(ChainRead(first, limit))
            first += limit
        start, wanted_end = first, end
    if start is not None and wanted_end is not None:
        reads.append(ChainRead(start, wanted_end - start))
    decoded = tuple((m, m.model) for m in chain.models if m.model is not None)
    marker = chain.end_marker
    return ReadPlan(
        chain,
        tuple(reads),
        decoded,
        marker is not None and any(r.start <= marker and marker + 2 <= r.end for r in reads),
    )


def registers_read(plan: ReadPlan, answers: Sequence[tuple[ChainRead, list[int]]]) -> list[int]:
    """The registers of all answers in one list from ``plan.start`` (0 where not read)."""
    end = max((read.end for read, _ in answers), default=plan.start)
    registers = [0] * (end - plan.start)
    for read, words in answers:
        registers[read.start - plan.start : read.end - plan.start] = words
    return registers

"""The REFU read plan: coalesced reads, and how a refused block is split."""

from __future__ import annotations

from exporter.refu.channels import load_refu_mapping
from exporter.refu.plan import MAX_REGISTERS_PER_READ, plan_reads


def test_the_seed_map_reads_in_two_requests():
    plan = plan_reads(load_refu_mapping().register_channels, max_gap=10)
    assert [(b.function, b.start, b.count) for b in plan] == [(3, 0x200, 11), (4, 0x100, 0x56)]


def test_no_gap_allowed_keeps_unused_registers_out_of_every_read():
    plan = plan_reads(load_refu_mapping().register_channels, max_gap=0)
    assert [(b.function, b.start, b.start + b.count - 1) for b in plan] == [
        (3, 0x200, 0x20A),
        (4, 0x100, 0x118),
        (4, 0x11A, 0x133),
        (4, 0x135, 0x155),
    ]


def test_a_block_never_exceeds_125_registers_and_splits_at_its_widest_hole():
    channels = load_refu_mapping().register_channels
    spread = tuple(c for c in channels if c.location.function == 4)
    plan = plan_reads(spread, max_gap=200)
    assert all(block.count <= MAX_REGISTERS_PER_READ for block in plan)
    (block,) = plan
    left, right = block.split()
    assert (left.start, left.start + left.count) == (0x100, 0x119)
    assert (right.start, right.start + right.count) == (0x11A, 0x156)
    assert len(left.channels) + len(right.channels) == len(block.channels)

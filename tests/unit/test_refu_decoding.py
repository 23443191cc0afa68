"""REFU decoding: hand-written register words in, literal values out.

No simulator and no encoder of the exporter's own: every word and every value here is
written out, so a wrong word order, sign or scale fails a test.
"""

from __future__ import annotations

import pytest

from exporter.metrics import scaling
from exporter.model import Channel, Kind
from exporter.refu.channels import Register, RegisterType, WordOrder
from exporter.refu.plan import plan_reads

MSW, LSW = WordOrder.MSW_FIRST, WordOrder.LSW_FIRST


def register(type_name: str, at: int = 0x100, order: WordOrder = MSW, function: int = 4):
    return Register(function, at, RegisterType(type_name), order)


def channel(name: str, location: Register) -> Channel[Register]:
    return Channel(
        seed_id=f"test.{name}",
        metric=f"refu_{name}",
        kind=Kind.GAUGE,
        help=f"test channel {name}",
        location=location,
    )


@pytest.mark.parametrize(
    ("type_name", "words", "value"),
    [
        ("uint16", [0x0000], 0),
        ("uint16", [0x0052], 82),
        ("uint16", [0x8000], 32768),
        ("uint16", [0xFFFF], 65535),
        ("int16", [0x0001], 1),
        ("int16", [0x7FFF], 32767),
        ("int16", [0xFFFF], -1),
        ("int16", [0xFFE2], -30),
        ("int16", [0x8000], -32768),
    ],
)
def test_a_one_word_register(type_name, words, value):
    assert register(type_name).decode(words) == value


@pytest.mark.parametrize(
    ("type_name", "order", "words", "value"),
    [
        ("uint32", MSW, [0x0001, 0x0002], 0x0001_0002),
        ("uint32", LSW, [0x0001, 0x0002], 0x0002_0001),
        ("uint32", MSW, [0xFFFF, 0xFFFF], 4_294_967_295),
        ("uint32", LSW, [0x0000, 0x8000], 0x8000_0000),
        ("int32", MSW, [0x0001, 0x0002], 0x0001_0002),
        ("int32", LSW, [0x0001, 0x0002], 0x0002_0001),
        ("int32", MSW, [0xFFFF, 0xFFFE], -2),
        ("int32", LSW, [0xFFFE, 0xFFFF], -2),
        ("int32", MSW, [0x8000, 0x0000], -2_147_483_648),
        ("int32", LSW, [0x0000, 0x8000], -2_147_483_648),
        ("int32", MSW, [0x7FFF, 0xFFFF], 2_147_483_647),
        ("int32", LSW, [0x1170, 0x0001], 70_000),  # 70,000 kWh: both words matter
    ],
)
def test_a_two_word_register_in_either_word_order(type_name, order, words, value):
    assert register(type_name, order=order).decode(words) == value


@pytest.mark.parametrize("function", [1, 2])
def test_a_coil_or_discrete_input_reads_0_or_1(function):
    bit = register("bool", function=function)
    assert (bit.decode([0]), bit.decode([1])) == (0, 1)


def test_a_block_answer_gives_each_channel_its_value():
    # Given out of register order, with a two-register hole before the last one.
    battery_current = channel("battery_current", register("int16", 0x101))
    power = channel("power", register("int16", 0x100))
    state = channel("state", register("uint16", 0x102))
    produced = channel("produced", register("uint32", 0x103, MSW))
    charged = channel("charged", register("int32", 0x105, LSW))
    balance = channel("balance", register("int32", 0x107, MSW))
    alarms = channel("alarms", register("uint16", 0x10B))
    channels = (battery_current, power, state, produced, charged, balance, alarms)

    (block,) = plan_reads(channels, max_gap=10)
    assert (block.function, block.start, block.count) == (4, 0x100, 12)
    words = [
        0xFFE2,  # 0x100 power
        0x8000,  # 0x101 battery current
        0x0005,  # 0x102 state
        0x0001,  # 0x103 produced, high word
        0x0002,  # 0x104 produced, low word
        0x1170,  # 0x105 charged, low word
        0x0001,  # 0x106 charged, high word
        0xFFFF,  # 0x107 balance, high word
        0xFFFE,  # 0x108 balance, low word
        0x1234,  # 0x109 not a channel
        0x5678,  # 0x10a not a channel
        0x8042,  # 0x10b alarms
    ]
    assert block.values(words) == {
        power: -30,
        battery_current: -32768,
        state: 5,
        produced: 0x0001_0002,
        charged: 70_000,
        balance: -2,
        alarms: 0x8042,
    }


def test_blocks_of_each_function_read_their_own_answers():
    holding = channel("holding", register("int16", 0x200, function=3))
    coil = channel("coil", register("bool", 0x10, function=1))
    discrete = channel("discrete", register("bool", 0x11, function=2))
    other_discrete = channel("other_discrete", register("bool", 0x13, function=2))
    channels = (holding, coil, discrete, other_discrete)

    blocks = {block.function: block for block in plan_reads(channels, max_gap=10)}
    assert {f: (b.start, b.count) for f, b in blocks.items()} == {
        1: (0x10, 1),
        2: (0x11, 3),
        3: (0x200, 1),
    }
    assert blocks[1].values([1]) == {coil: 1}
    assert blocks[2].values([0, 1, 1]) == {discrete: 0, other_discrete: 1}
    assert blocks[3].values([0xFFFF]) == {holding: -1}


@pytest.mark.parametrize(
    ("raw", "scale", "value"),
    [
        (82, 0.01, 0.82),  # a state of charge in %, as a ratio
        (1234, 0.1, 123.4),
        (-125, 0.1, -12.5),
        (-30, 100, -3000),
        (80, -100, -8000),  # a charge limit the device sends as a positive number
        (25, -0.1, -2.5),
        (3300, 0.001, 3.3),
        (70_000, 3_600_000, 252_000_000_000),  # kWh as joules
        (4, 1, 4),
    ],
)
def test_the_scale_gives_the_value_in_the_base_unit(raw, scale, value):
    assert scaling(scale)(raw) == value

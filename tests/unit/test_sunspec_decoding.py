"""SunSpec decoding: hand-written register words in, literal values out.

No simulator and no encoder of the exporter's own: every word and every value here is
written out, so a wrong word order, sign, scale factor or "not implemented" value fails.
"""

from __future__ import annotations

import math

import pytest

from exporter.sunspec.channels import load_sunspec_mapping
from exporter.sunspec.points import POINT_TYPES, decode_model, times_power_of_ten

MAPPING = load_sunspec_mapping()
NI16, NI_SF = 0xFFFF, 0x8000

#: Model 103 as a REFUstore 88K sends it, register by register from its ID.
MODEL_103 = [
    103, 50,
    12345, 4115, 4116, 4114, 0xFFFE,  # A, AphA..C in 0.01 A (A_SF -2)
    4000, 4001, 3999, 2310, 2309, 2311, 0xFFFF,  # PPVph.., PhVph.. in 0.1 V (V_SF -1)
    0xFCE0, 0x0001,  # W -800 x 10 W (W_SF 1): charging at 8 kW
    5002, 0xFFFE,  # Hz 50.02
    800, 1,  # VA 8000
    0xFFF6, 1,  # VAr -100
    0x8000, 0xFFFF,  # PF not implemented (int16), PF_SF -1
    0x0012, 0xD687, 2,  # WH 1234567 x 100 Wh (acc32, high word first, WH_SF 2)
    0xFC18, 0xFFFE,  # DCA -1000 x 0.01 A: signed on this device (uint16 in the spec)
    7200, 0xFFFF,  # DCV 720.0
    0xFCE0, 1,  # DCW -8000
    315, 402, 0x8000, 0x8000, 0xFFFF,  # TmpCab, TmpSnk; TmpTrns, TmpOt not implemented
    9, 0xFFFF,  # St 9 (REFU's STARTED), StVnd not implemented
    0x0000, 0x0081,  # Evt1: GROUND_FAULT and OVER_TEMP
    0x0000, 0x0000,  # Evt2
    0xFFFF, 0xFFFF, 0x0000, 0x0004, 0x0000, 0x0000, 0x0000, 0x0000,  # EvtVnd1 n.i., EvtVnd2 bit 2
]  # fmt: skip


def decoded(model_id: int, registers: list[int]) -> dict[tuple[str, tuple[str, ...]], object]:
    """Every value decoded, by seed id and instance numbers."""
    return {
        (channel.seed_id, numbers): value
        for group, numbers, raws in decode_model(MAPPING.models[model_id], registers)
        for channel, value in zip(group.channels, raws, strict=True)
    }


def test_model_103_of_the_88k_decodes_with_its_scale_factors():
    values = {seed_id: v for (seed_id, _), v in decoded(103, MODEL_103).items()}
    assert values["103.A"] == pytest.approx(123.45)
    assert values["103.AphC"] == pytest.approx(41.14)
    assert values["103.PPVphBC"] == pytest.approx(400.1)
    assert values["103.PhVphA"] == pytest.approx(231.0)
    assert values["103.W"] == -8000
    assert values["103.Hz"] == pytest.approx(50.02)
    assert values["103.VA"] == 8000
    assert values["103.VAr"] == -100
    assert values["103.WH"] == 123_456_700
    assert values["103.DCA"] == pytest.approx(-10.0)
    assert values["103.DCV"] == pytest.approx(720.0)
    assert values["103.DCW"] == -8000
    assert values["103.TmpCab"] == pytest.approx(31.5)
    assert values["103.St"] == 9
    assert values["103.Evt1"] == 0x81
    assert values["103.Evt2"] == 0
    assert values["103.EvtVnd2"] == 4


def test_not_implemented_values_are_absent_not_zero():
    values = {seed_id: v for (seed_id, _), v in decoded(103, MODEL_103).items()}
    for seed_id in ("103.PF", "103.TmpTrns", "103.TmpOt", "103.StVnd", "103.EvtVnd1"):
        assert values[seed_id] is None, seed_id


def test_a_value_whose_scale_factor_is_not_implemented_is_absent():
    registers = list(MODEL_103)
    registers[15] = NI_SF  # W_SF
    values = {seed_id: v for (seed_id, _), v in decoded(103, registers).items()}
    assert values["103.W"] is None
    assert values["103.Hz"] == pytest.approx(50.02)


def test_refu_state_9_is_a_documented_state_and_dca_is_signed():
    channels = {c.seed_id: c for c in MAPPING.models[103].top.channels}
    assert channels["103.St"].states[9] == "STARTED"
    assert channels["103.St"].states[7] == "FAULT"
    assert channels["103.DCA"].location.type is POINT_TYPES["int16"]
    # Model 101 follows the definition: its DC current is unsigned.
    single = {c.seed_id: c for c in MAPPING.models[101].top.channels}
    assert single["101.DCA"].location.type is POINT_TYPES["uint16"]
    assert 9 not in single["101.St"].states


@pytest.mark.parametrize(
    ("type_name", "words", "value"),
    [
        ("int16", [0x8000], None),
        ("int16", [0x8001], -32767),
        ("uint16", [0xFFFF], None),
        ("uint16", [0xFFFE], 65534),
        ("count", [0xFFFF], None),
        ("acc16", [0x0000], None),
        ("enum16", [0xFFFF], None),
        ("bitfield16", [0xFFFF], None),
        ("int32", [0x8000, 0x0000], None),
        ("int32", [0xFFFF, 0xFFFE], -2),
        ("uint32", [0xFFFF, 0xFFFF], None),
        ("uint32", [0x0001, 0x0002], 0x10002),
        ("acc32", [0x0000, 0x0000], None),
        ("enum32", [0xFFFF, 0xFFFF], None),
        ("bitfield32", [0x8000, 0x0001], 0x8000_0001),
        ("int64", [0x8000, 0, 0, 0], None),
        ("int64", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFD], -3),
        ("uint64", [0xFFFF] * 4, None),
        ("acc64", [0, 0, 0, 0], None),
        ("acc64", [0, 1, 0, 0], 1 << 32),
        ("float32", [0x7FC0, 0x0000], None),
        ("float32", [0x4148, 0x0000], 12.5),
        ("sunssf", [0x8000], None),
        ("sunssf", [0xFFFD], -3),
        ("ipaddr", [0, 0], None),
        ("ipaddr", [0xC000, 0x0201], "192.0.2.1"),
        ("ipv6addr", [0] * 8, None),
        ("ipv6addr", [0x2001, 0x0DB8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ("eui48", [0, 0xFFFF, 0xFFFF, 0xFFFF], None),
        ("eui48", [0, 0x0012, 0x3456, 0x789A], "00:12:34:56:78:9a"),
        ("string", [0, 0, 0], None),
        ("string", [0x5245, 0x4655, 0x0000], "REFU"),
    ],
)
def test_each_point_type_and_its_not_implemented_value(type_name, words, value):
    assert POINT_TYPES[type_name].decode(words, 0, len(words)) == value


def test_scale_factors_are_exact_powers_of_ten():
    assert times_power_of_ten(2345, -2) == 23.45
    assert times_power_of_ten(-800, 1) == -8000
    assert times_power_of_ten(7, 0) == 7
    assert math.isclose(times_power_of_ten(1, -7), 1e-7)


def test_a_repeated_group_fills_the_rest_of_the_model():
    """Model 160 (MPPT) with two inputs; scale factors come from the enclosing group."""
    module = [
        1, 0x5056, 0x3100, 0, 0, 0, 0, 0, 0,  # ID, IDStr "PV1"
        1234, 6001, 7405, 0x0001, 0x0000, 0, 100, 25, 4, 0, 0,  # DCA .. DCEvt
    ]  # fmt: skip
    second = [
        2, 0, 0, 0, 0, 0, 0, 0, 0,  # IDStr not implemented
        0xFFFF, 5500, 0xFFFF, 0, 0, 0xFFFF, 0xFFFF, 0x8000, 0xFFFF, 0xFFFF, 0xFFFF,
    ]  # fmt: skip
    header = [160, 8 + 2 * 20, 0xFFFE, 0xFFFF, 0, 0, 0, 0, 2, 0]  # SFs -2, -1, 0, 0; N = 2
    values = decoded(160, [*header, *module, *second])
    assert values["160.N", ()] == 2
    assert values["160.module.DCA", ("1",)] == pytest.approx(12.34)
    assert values["160.module.DCV", ("1",)] == pytest.approx(600.1)
    assert values["160.module.DCW", ("1",)] == 7405
    assert values["160.module.DCWH", ("1",)] == 0x10000
    assert values["160.module.IDStr", ("1",)] == "PV1"
    assert values["160.module.DCSt", ("1",)] == 4
    assert values["160.module.DCA", ("2",)] is None
    assert values["160.module.DCV", ("2",)] == pytest.approx(550.0)
    assert ("160.module.DCA", ("3",)) not in values


def test_a_group_counted_by_a_point_repeats_that_often():
    """Model 714 (DER DC measurement): NPrt says how many ports follow."""
    model = MAPPING.models[714]
    fixed = model.top.size
    (port, _), *_ = model.top.children
    registers = [714, 0] + [0xFFFF] * (fixed - 2) + [0] * (3 * port.size)
    npr = next(c for c in model.top.channels if c.seed_id == "714.NPrt").location.offset
    registers[npr] = 2
    registers[1] = len(registers) - 2
    numbers = {numbers for group, numbers, _ in decode_model(model, registers) if group is port}
    assert numbers == {("1",), ("2",)}


def test_a_model_shorter_than_its_definition_decodes_the_points_it_has():
    values = {seed_id: v for (seed_id, _), v in decoded(103, MODEL_103[:30]).items()}
    assert values["103.W"] == -8000
    assert values["103.DCA"] == pytest.approx(-10.0)
    assert values["103.DCV"] is None  # its scale factor is past the end
    assert values["103.St"] is None

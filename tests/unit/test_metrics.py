"""The renderer: a channel and a raw value -> the series Prometheus reads, parsed back."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.metrics import (
    UNDOCUMENTED,
    FamilyBuilder,
    Part,
    PartLayout,
    dotted_version,
    scaled,
)
from exporter.model import Channel, Kind


def channel(kind: Kind, metric: str, **options: Any) -> Channel[None]:
    return Channel(
        seed_id="test.value", metric=metric, kind=kind, help="A value.", location=None, **options
    )


def exposition(*adds: tuple[Channel[None], Any]) -> dict[tuple[str, tuple], float]:
    """Every sample, as Prometheus' own parser reads the text, by name and sorted labels."""
    layout = PartLayout([ch for ch, _ in adds], ("target",))
    builder = FamilyBuilder(("target",))
    builder.add_part(layout.part(("t1",), [raw for _, raw in adds]))

    class Families:
        def collect(self):
            return builder.families()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families())
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_gauge_is_scaled_exactly():
    ch = channel(Kind.GAUGE, "refu_x_ratio", unit="ratio", scale=0.01)
    assert exposition((ch, 82)) == {("refu_x_ratio", (("target", "t1"),)): 0.82}
    assert scaled(82, 0.01) == 0.82  # not 0.8200000000000001


def test_a_counter_keeps_its_total_name_and_constant_labels():
    ch = channel(
        Kind.COUNTER, "refu_e_joules_total", unit="joules", scale=3600, labels=(("phase", "L1"),)
    )
    assert exposition((ch, 2)) == {
        ("refu_e_joules_total", (("phase", "L1"), ("target", "t1"))): 7200.0
    }


def test_an_enum_has_one_series_per_state_and_exactly_one_is_1():
    ch = channel(Kind.ENUM, "refu_state", states={0: "Off", 1: "On", 2: "Fault"})
    samples = exposition((ch, 1))
    assert {labels[0][1]: value for (_, labels), value in samples.items()} == {
        "Off": 0.0,
        "On": 1.0,
        "Fault": 0.0,
    }


def test_an_undocumented_enum_value_shows_as_its_number():
    ch = channel(Kind.ENUM, "refu_state", states={0: "Off"})
    samples = exposition((ch, 7))
    assert samples[("refu_state", (("state", "7"), ("target", "t1")))] == 1.0
    assert samples[("refu_state", (("state", "Off"), ("target", "t1")))] == 0.0


def test_a_bitfield_shows_every_documented_bit_and_set_undocumented_ones():
    ch = channel(Kind.BITFIELD, "refu_alarm", bits={0: "Overheat", 3: "Fan"})
    samples = exposition((ch, 0b10_0001))
    assert samples == {
        ("refu_alarm", (("alarm", "Overheat"), ("bit", "0"), ("target", "t1"))): 1.0,
        ("refu_alarm", (("alarm", "Fan"), ("bit", "3"), ("target", "t1"))): 0.0,
        ("refu_alarm", (("alarm", UNDOCUMENTED), ("bit", "5"), ("target", "t1"))): 1.0,
    }


def test_info_channels_of_one_family_share_one_series():
    serial = channel(Kind.INFO, "refu_device_info", info_label="serial")
    firmware = channel(Kind.INFO, "refu_device_info", info_label="firmware", text_format="version")
    samples = exposition((serial, "SN1"), (firmware, 0x0300130F))
    assert samples == {
        ("refu_device_info", (("firmware", "3.0.19.15"), ("serial", "SN1"), ("target", "t1"))): 1.0
    }


def test_an_array_counts_from_1_and_leaves_out_missing_values():
    ch = channel(
        Kind.ARRAY,
        "refu_cell_volts",
        unit="volts",
        scale=0.001,
        index_label="cell",
        missing_values=frozenset({65535}),
    )
    samples = exposition((ch, (3301, 65535, 3299)))
    assert samples == {
        ("refu_cell_volts", (("cell", "1"), ("target", "t1"))): 3.301,
        ("refu_cell_volts", (("cell", "3"), ("target", "t1"))): 3.299,
    }


@pytest.mark.parametrize("raw", [None, 65535])
def test_a_missing_value_makes_no_series(raw):
    ch = channel(Kind.GAUGE, "refu_x", missing_values=frozenset({65535}))
    assert exposition((ch, raw)) == {}


@pytest.mark.parametrize(("raw", "text"), [(0x0502025D, "5.2.2.93"), (-1, "-1"), ("1.2", "1.2")])
def test_dotted_versions(raw, text):
    assert dotted_version(raw) == text


@pytest.mark.parametrize(
    "devices",
    [
        {"a": (1, 1, "v1"), "b": (2, 0, "v2"), "c": (3, 2, "v3")},  # every device, every family
        {"a": (1, 1, "v1"), "b": (None, 2, None), "c": (3, None, "v3")},  # some left out
    ],
    ids=["same families", "other families"],
)
def test_merged_parts_give_what_adding_each_device_gives(devices):
    gauge = channel(Kind.GAUGE, "x_power_watts", scale=0.1)
    enum = channel(Kind.ENUM, "x_state", states={0: "off", 1: "on"})
    info = channel(Kind.INFO, "x_device_info", info_label="firmware")
    layout = PartLayout((gauge, enum, info), ("target",))
    parts = [layout.part((device,), values) for device, values in devices.items()]
    each, merged = FamilyBuilder(("target",)), FamilyBuilder(("target",))
    for part in parts:
        each.add_part(part)
    merged.add_part(Part.merge(parts))

    def shown(builder: FamilyBuilder) -> list[tuple[str, list]]:
        return [(family.name, family.samples) for family in builder.families()]

    assert shown(merged) == shown(each)
    assert [sample.value for _, samples in shown(merged)[:1] for sample in samples] == [
        raw / 10 for raw, *_ in devices.values() if raw is not None
    ]
    assert [len(samples) for _, samples in shown(merged)] == [
        sum(raw is not None for raw, *_ in devices.values()),
        sum(2 + (state == 2) for _, state, _ in devices.values() if state is not None),
        sum(text is not None for *_, text in devices.values()),
    ]


def test_a_part_built_again_keeps_the_chunks_of_values_that_did_not_change():
    gauge = channel(Kind.GAUGE, "x_power_watts")
    phases = [channel(Kind.GAUGE, "x_volts", labels=(("phase", p),)) for p in ("L1", "L2")]
    enum = channel(Kind.ENUM, "x_state", states={0: "off", 1: "on"})
    layout = PartLayout((gauge, *phases, enum), ("target",))
    first = layout.part(("t1",), (100, 230, 231, 1))
    power, volts = first.family(0), first.family(1)
    second = layout.part(("t1",), (100, 230, 229, None), first)
    assert second.family(0) is power  # made once, shared by scrapes (and its text with it)
    assert second.family(1) is not volts
    assert second.chunks[0] is first.chunks[0]  # the same power
    assert second.chunks[1] is not first.chunks[1]  # L2 changed: the family is built again
    assert [s.series for s in second.chunks[1]] == [((("t1", "L1"), 230), (("t1", "L2"), 229))]
    assert second.chunks[2] == ()  # no state: no family
    again = FamilyBuilder(("target",))
    again.add_part(second)
    assert [family.name for family in again.families()] == ["x_power_watts", "x_volts"]

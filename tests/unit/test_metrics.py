"""The renderer: a channel and a raw value -> the series Prometheus reads, parsed back."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporter.exposition import Family, InfoFamily
from exporter.metrics import UNDOCUMENTED, ChannelFamilies, Families, dotted_version, scaling
from exporter.model import Channel, Kind


def channel(kind: Kind, metric: str, **options: Any) -> Channel[None]:
    return Channel(
        seed_id="test.value", metric=metric, kind=kind, help="A value.", location=None, **options
    )


def exposition(*adds: tuple[Channel[None], Any]) -> dict[tuple[str, tuple], float]:
    """Every sample, as Prometheus' own parser reads the text, by name and sorted labels."""
    families = Families()
    ChannelFamilies([ch for ch, _ in adds], ("target",)).add(
        families, [(("t1",), [r for _, r in adds])]
    )
    return parsed(families)


def parsed(families: Families) -> dict[tuple[str, tuple], float]:
    """The samples of ``families`` as prometheus_client writes and parses them."""

    class Collected:
        def collect(self):
            return [f.to_metric() if isinstance(f, Family | InfoFamily) else f for f in families]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collected())
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_gauge_is_scaled_exactly():
    ch = channel(Kind.GAUGE, "refu_x_ratio", unit="ratio", scale=0.01)
    assert exposition((ch, 82)) == {("refu_x_ratio", (("target", "t1"),)): 0.82}
    assert scaling(0.01)(82) == 0.82  # not 0.8200000000000001


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


def test_the_devices_of_a_scrape_share_each_family_in_the_order_added():
    gauge = channel(Kind.GAUGE, "x_power_watts", scale=0.1)
    enum = channel(Kind.ENUM, "x_state", states={0: "off", 1: "on"})
    info = channel(Kind.INFO, "x_device_info", info_label="firmware")
    channels = ChannelFamilies((gauge, enum, info), ("target",))
    families = Families()
    devices = {"a": (1, 1, "v1"), "b": (None, 2, None), "c": (3, None, "v3")}
    channels.add(families, [((device,), raws) for device, raws in devices.items()])
    shown = {family.name: family for family in families}
    assert list(shown) == ["x_power_watts", "x_state", "x_device"]
    power, state = shown["x_power_watts"], shown["x_state"]
    assert list(zip(power.labels, power.values, strict=True)) == [
        (("a",), 0.1),
        (("c",), 0.3),
    ]
    assert [
        (s.labels(values), v)
        for s, values, v in zip(state.shapes, state.labels, state.values, strict=True)
    ] == [
        ({"target": "a", "state": "off"}, 0.0),
        ({"target": "a", "state": "on"}, 1.0),
        ({"target": "b", "state": "off"}, 0.0),
        ({"target": "b", "state": "on"}, 0.0),
        ({"target": "b", "state": "2"}, 1.0),
    ]
    assert parsed(families)[("x_device_info", (("firmware", "v3"), ("target", "c")))] == 1.0


def test_every_scrape_shows_only_the_values_of_that_scrape():
    volts = [channel(Kind.GAUGE, "x_volts", labels=(("phase", p),)) for p in ("L1", "L2")]
    channels = ChannelFamilies(volts, ("target",))
    first, second = Families(), Families()
    channels.add(first, [(("t1",), (230, 231))])
    channels.add(second, [(("t1",), (229, None))])
    assert parsed(second) == {("x_volts", (("phase", "L1"), ("target", "t1"))): 229.0}
    assert len(parsed(first)) == 2


def test_zero_is_never_negative():
    assert str(scaling(-0.1)(0)) == "0.0"
    assert str(scaling(-3)(0)) == "0.0"


def test_a_channel_no_device_reported_makes_no_family():
    power = channel(Kind.GAUGE, "x_power_watts")
    state = channel(Kind.ENUM, "x_state", states={0: "off"})
    families = Families()
    ChannelFamilies((power, state), ("target",)).add(families, [(("a",), (5, None))])
    assert [family.name for family in families] == ["x_power_watts"]

"""The SunSpec mapping: every point of every decoded model is a channel with a valid name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from exporter.model import Kind, MappingError
from exporter.sunspec.channels import load_sunspec_mapping, shipped_definitions, snake_case
from tests.support.paths import PROJECT_ROOT

MAPPING = load_sunspec_mapping()
DEFINITIONS = {d["id"]: d for d in shipped_definitions()}
METRIC = re.compile(r"^sunspec_[a-z][a-z0-9_]*$")
#: Point types that are not values: scale factors and padding.
NOT_VALUES = {"sunssf", "pad"}


def channels_of(model_id: int) -> dict[str, object]:
    return {
        c.seed_id: c
        for g in MAPPING.groups()
        for c in g.channels
        if c.seed_id.startswith(f"{model_id}.")
    }


@pytest.mark.parametrize("model_id", [1, 103])
def test_models_1_and_103_export_every_point_but_header_scale_factors_and_padding(model_id):
    points = DEFINITIONS[model_id]["group"]["points"][2:]
    wanted = {f"{model_id}.{p['name']}" for p in points if p["type"] not in NOT_VALUES}
    assert set(channels_of(model_id)) == wanted


def test_model_1_is_one_info_series_and_the_device_address():
    channels = channels_of(1)
    info = {c.info_label for c in channels.values() if c.kind is Kind.INFO}
    assert info == {"manufacturer", "model", "options", "version", "serial_number"}
    assert {c.metric for c in channels.values()} == {
        "sunspec_device_info",
        "sunspec_device_modbus_address",
    }


def test_inverter_models_share_their_metrics():
    for model_id in (101, 102, 103, 111, 112, 113):
        power = channels_of(model_id)[f"{model_id}.W"]
        assert power.metric == "sunspec_inverter_ac_power_watts", model_id
    assert channels_of(103)["103.WH"].metric == "sunspec_inverter_ac_energy_joules_total"
    assert channels_of(103)["103.WH"].scale == 3600
    assert channels_of(113)["113.WH"].metric == "sunspec_inverter_ac_energy_joules"  # a float


def test_every_metric_name_is_valid_and_carries_its_unit():
    for group in MAPPING.groups():
        for channel in group.channels:
            assert METRIC.match(channel.metric), channel.seed_id
            if channel.unit:
                assert channel.metric.removesuffix("_total").endswith(f"_{channel.unit}")
            assert (channel.kind is Kind.COUNTER) == channel.metric.endswith("_total")
            assert (channel.kind is Kind.INFO) == channel.metric.endswith("_info")


def test_percentages_become_ratios_and_watt_hours_joules():
    nameplate = channels_of(120)
    assert nameplate["120.WHRtg"].metric == "sunspec_nameplate_wh_rtg_joules"
    assert nameplate["120.WHRtg"].scale == 3600
    battery = channels_of(802)
    assert battery["802.SoC"].unit == "ratio" and battery["802.SoC"].scale == 0.01


def test_a_repeated_group_is_numbered_by_its_own_label():
    (inputs, _), *_ = MAPPING.models[160].top.children
    assert inputs.index_label == "input" and inputs.index_labels == ("input",)
    assert channels_of(160)["160.module.DCA"].metric == "sunspec_mppt_input_dca_amperes"


def test_the_refu_parameter_models_are_known_but_not_read():
    assert set(MAPPING.unread) == {64040, 64041}
    assert not set(MAPPING.unread) & set(MAPPING.models)


@pytest.mark.parametrize(
    ("name", "snake"),
    [("PhVphA", "ph_vph_a"), ("DERMeasureAC", "der_measure_ac"), ("WMaxLim_Ena", "w_max_lim_ena")],
)
def test_snake_case(name, snake):
    assert snake_case(name) == snake


def broken_mapping(tmp_path: Path, keys: tuple[str | int, ...], value: object) -> Path:
    """The shipped mapping with the value at ``keys`` (a path into the document) replaced."""
    document = yaml.safe_load((PROJECT_ROOT / "mappings" / "sunspec.yaml").read_text("utf-8"))
    *parents, last = keys
    place = document
    for key in parents:
        place = place[key]
    place[last] = value
    path = tmp_path / "sunspec.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


#: A repeated group of the vendor model, counted by a point it does not have.
UNCOUNTED_GROUP = {
    "name": "string",
    "type": "group",
    "count": "NString",
    "points": [{"name": "V", "type": "uint16", "size": 1}],
}


@pytest.mark.parametrize(
    ("keys", "value", "reason"),
    [
        pytest.param(("device",), "refu", "expected a mapping with device: sunspec", id="device"),
        pytest.param(
            ("decoded",),
            [1, 99999, 101],
            "no definition of decoded models [99999]",
            id="a-model-without-definition",
        ),
        pytest.param(
            ("vendor_models", 0),
            "64800",
            "a vendor model must be a model definition",
            id="vendor-model-a-text",
        ),
        pytest.param(
            ("vendor_models", 0, "group"),
            None,
            "a vendor model must be a model definition",
            id="vendor-model-without-group",
        ),
        pytest.param(
            ("vendor_models", 0, "group", "points", 7, "sf"),
            "MaxBatB_SF",
            "vendor model 64800: Scale factor MaxBatB_SF for point MaxBatACha not found",
            id="vendor-model-invalid",
        ),
        pytest.param(
            ("vendor_models", 0, "group", "groups"),
            [UNCOUNTED_GROUP],
            "model 64800: no point 'NString' for a scale factor or count",
            id="a-count-of-no-point",
        ),
        pytest.param(
            ("models", 160, "groups", "module"),
            "pack",
            "model 160: group 'module': label 'pack' is taken",
            id="a-group-label-taken",
        ),
        pytest.param(
            ("models", 101, "points", "W", "labels"),
            {"target": "inverter"},
            "model 101: W: a constant label name is taken",
            id="a-constant-label-taken",
        ),
        pytest.param(
            ("models", 101, "points", "AphB", "labels"),
            {"line": "B"},
            "model 101: 101.AphB: sunspec_inverter_ac_phase_current_amperes is made by another"
            " point as another kind, unit or label set",
            id="a-metric-of-two-label-sets",
        ),
        pytest.param(
            ("models", 101, "points", "W"),
            "ac_power",
            "model 101: point W: expected name and labels",
            id="point-names-a-text",
        ),
        pytest.param(
            ("departures", 103, "DCA", "type"),
            "int32",
            "model 103: DCA: a departed type must have the same size",
            id="a-departed-type-of-another-size",
        ),
    ],
)
def test_a_broken_mapping_is_refused_naming_file_place_and_reason(tmp_path, keys, value, reason):
    path = broken_mapping(tmp_path, keys, value)
    with pytest.raises(MappingError) as raised:
        load_sunspec_mapping(path)
    assert str(raised.value) == f"{path}: {reason}"


def test_a_mapping_that_is_not_utf_8_is_refused_naming_the_file(tmp_path: Path):
    path = tmp_path / "sunspec.yaml"
    path.write_bytes(b"device: sunspec\n# REFU \xb5Controller\n")
    with pytest.raises(MappingError) as raised:
        load_sunspec_mapping(path)
    assert str(raised.value).startswith(f"{path}: cannot read mapping: ")
    assert "can't decode byte 0xb5" in str(raised.value)

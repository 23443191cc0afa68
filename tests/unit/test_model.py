"""Mapping files: what loads, and what is refused (naming the file, the entry and the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exporter.model import MappingError
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.wire import DATA_REQUESTS
from exporter.refu.channels import load_refu_mapping

GOOD = {
    "source": "refu.BatteryVoltage",
    "register": 0x11E,
    "function": 4,
    "type": "int16",
    "metric": "refu_battery_voltage_volts",
    "unit": "volts",
    "scale": 0.1,
    "help": "battery voltage",
}


def write(tmp_path: Path, *entries: dict, device: str = "refu", **top: object) -> Path:
    path = tmp_path / f"{device}.yaml"
    path.write_text(yaml.safe_dump({"device": device, **top, "channels": list(entries)}))
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "No such file or directory", id="missing"),
        pytest.param(b"device: refu\nchannels: [\n", "while parsing", id="not-yaml"),
        pytest.param(b"device: r\xe9fu\nchannels: []\n", "can't decode byte 0xe9", id="not-utf-8"),
    ],
)
def test_an_unreadable_mapping_is_refused_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "refu.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MappingError) as raised:
        load_refu_mapping(path)
    assert str(raised.value).startswith(f"{path}: cannot read mapping: ")
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "int17"}, "unknown type or word order"),
        ({"scale": 0}, "bad scale 0"),
        ({"scale": "ten"}, "bad scale 'ten'"),
        ({"unit": "kilowatts"}, "unknown unit 'kilowatts'"),
        ({"metric": "refu_battery_voltage"}, "must end in its unit '_volts'"),
        ({"function": 6}, "function 6 is not a Modbus read"),
        ({"kind": "counter"}, "must end in '_total'"),
        ({"kind": "enum"}, "an enum needs 'states'"),
    ],
)
def test_a_bad_entry_is_refused_naming_file_entry_and_reason(tmp_path, change, reason):
    path = write(tmp_path, GOOD, {**GOOD, "source": "refu.Broken", "register": 0x200, **change})
    with pytest.raises(MappingError) as raised:
        load_refu_mapping(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: channels[1] (refu.Broken): ")
    assert reason in message


def test_overlapping_registers_are_refused(tmp_path):
    counter = {
        **GOOD,
        "source": "refu.Energy",
        "register": 0x11D,
        "type": "int32",
        "kind": "counter",
        "metric": "refu_energy_joules_total",
        "unit": "joules",
    }
    with pytest.raises(MappingError, match=r"refu\.BatteryVoltage: register 0x11e .* overlaps"):
        load_refu_mapping(write(tmp_path, counter, GOOD))


def test_a_duplicate_metric_name_is_refused(tmp_path):
    twin = {**GOOD, "source": "refu.Twin", "register": 0x11F}
    with pytest.raises(MappingError, match=r"refu\.Twin: duplicate metric name"):
        load_refu_mapping(write(tmp_path, GOOD, twin))


def test_a_shared_metric_needs_one_consistent_family(tmp_path):
    l1 = {**GOOD, "source": "refu.L1", "labels": {"phase": "L1"}}
    l2 = {**GOOD, "source": "refu.L2", "register": 0x11F, "labels": {"phase": "L2"}}
    assert len(load_refu_mapping(write(tmp_path, l1, l2)).channels) == 2
    other_help = {**l2, "help": "something else"}
    with pytest.raises(MappingError, match=r"refu\.L2: shares metric"):
        load_refu_mapping(write(tmp_path, l1, other_help))


def test_a_powerocean_field_path_is_checked_against_the_schema(tmp_path):
    messages = {"JTS1_ENERGY_STREAM_REPORT": {"cmd_func": 96, "cmd_id": 33}}
    entry = {
        "source": "JTS1_ENERGY_STREAM_REPORT.sysGridPwr",
        "message": "JTS1_ENERGY_STREAM_REPORT",
        "field": "sysGridPower",
        "metric": "powerocean_grid_power_watts",
        "unit": "watts",
        "help": "grid",
    }
    path = write(tmp_path, entry, device="powerocean", messages=messages)
    with pytest.raises(MappingError, match="no field 'sysGridPower' in JTS1_ENERGY_STREAM_REPORT"):
        load_powerocean_mapping(path)
    path = write(tmp_path, {**entry, "field": "sysGridPwr"}, device="powerocean", messages=messages)
    assert load_powerocean_mapping(path).channels[0].location.path == ("sysGridPwr",)


OCEAN2 = {
    "serial_prefixes": ["RE11", "RE42"],
    "commands": ["254/39"],
    "data_requests": ["latest_quotas", "get_all"],
}
TELEMETRY = {
    "cmd_func": 254,
    "cmd_id": 39,
    "model": "ocean2",
    "schema": "Ocean2Telemetry",
    "keyed_lists": {"inverter.phases.phase": "phase"},
}
PHASE_POWER = {
    "source": "OCEAN2_TELEMETRY.inverter.phases.phase.1.act_pwr",
    "message": "Ocean2Telemetry",
    "field": "inverter.phases.phase.1.act_pwr",
    "metric": "powerocean_phase_active_power_watts",
    "unit": "watts",
    "scale": -1,
    "sign_inverted_on": ["RE42"],
    "variant": "ocean2",
    "help": "phase power",
}


def write_ocean2(tmp_path: Path, *entries: dict, model=OCEAN2, route=TELEMETRY) -> Path:
    return write(
        tmp_path,
        *(entries or [PHASE_POWER]),
        device="powerocean",
        models={"ocean2": model},
        messages={"OCEAN2_TELEMETRY": route},
    )


def test_the_ocean2_keys_load(tmp_path):
    flow = {
        **PHASE_POWER,
        "source": "OCEAN2_TELEMETRY.energy_flow.home_power",
        "field": ["energy_flow.home_power", "energy_flow_lagging.home_power"],
        "metric": "powerocean_load_power_watts",
        "scale": 1,
        "sign_inverted_on": [],
    }
    mapping = load_powerocean_mapping(write_ocean2(tmp_path, PHASE_POWER, flow))
    assert mapping.model_commands == {(254, 39): "ocean2"}
    assert mapping.routes["OCEAN2_TELEMETRY"].keyed_lists == {
        ("inverter", "phases", "phase"): "phase"
    }
    assert [request.name for request in mapping.data_requests("ocean2")] == [
        "get_all",
        "latest_quotas",
    ]
    assert mapping.data_requests("") == DATA_REQUESTS  # a model naming none takes every one
    power, load = (channel.location for channel in mapping.channels)
    assert power.sign_inverted_on == ("RE42",)
    assert load.paths == (("energy_flow", "home_power"), ("energy_flow_lagging", "home_power"))


@pytest.mark.parametrize(
    ("model", "route", "channel", "where", "reason"),
    [
        (
            {**OCEAN2, "commands": ["254/46"]},
            TELEMETRY,
            PHASE_POWER,
            "models.ocean2",
            "254/46 has no message of model 'ocean2'",
        ),
        (
            {**OCEAN2, "data_requests": ["latest_quotas", "energy_stream_switch"]},
            TELEMETRY,
            PHASE_POWER,
            "models.ocean2",
            "'data_requests': ['energy_stream_switch'] are no requests; there are"
            " energy_stream, get_all, latest_quotas",
        ),
        (
            OCEAN2,
            {**TELEMETRY, "keyed_lists": {"inverter.phases": "phase"}},
            PHASE_POWER,
            "messages.OCEAN2_TELEMETRY",
            "'inverter.phases' is not a repeated message with 'phase'",
        ),
        (
            OCEAN2,
            {**TELEMETRY, "keyed_lists": {"inverter.phases.phase": "volt"}},
            PHASE_POWER,
            "messages.OCEAN2_TELEMETRY",
            "'volt' of 'inverter.phases.phase' is not a whole number",
        ),
        (
            OCEAN2,
            {**TELEMETRY, "keyed_lists": {"inverter.phase.phase": "phase"}},
            PHASE_POWER,
            "messages.OCEAN2_TELEMETRY",
            "no field 'phase' on the way to 'inverter.phase.phase'",
        ),
        (
            OCEAN2,
            TELEMETRY,
            {**PHASE_POWER, "sign_inverted_on": ["RE43"]},
            PHASE_POWER["source"],
            "'sign_inverted_on' ['RE43'] are not serial prefixes of model 'ocean2'",
        ),
        (
            OCEAN2,
            TELEMETRY,
            {**PHASE_POWER, "field": ["inverter.ac_power", "inverter.acpower"]},
            PHASE_POWER["source"],
            "no field 'acpower' in Ocean2Inverter",
        ),
        (
            OCEAN2,
            TELEMETRY,
            {**PHASE_POWER, "field": []},
            "channels[0]",
            "'field' must be a path or a list of paths",
        ),
    ],
)
def test_a_bad_ocean2_key_is_refused_naming_where_and_why(
    tmp_path, model, route, channel, where, reason
):
    path = write_ocean2(tmp_path, channel, model=model, route=route)
    with pytest.raises(MappingError) as raised:
        load_powerocean_mapping(path)
    assert str(raised.value).startswith(f"{path}: {where}")
    assert reason in str(raised.value)


def mapping_with(tmp_path: Path, refused_models: object) -> Path:
    """A PowerOcean mapping whose Open API section lists ``refused_models``."""
    messages = {"JTS1_ENERGY_STREAM_REPORT": {"cmd_func": 96, "cmd_id": 33}}
    open_api = {"refused_models": refused_models}
    return write(tmp_path, device="powerocean", messages=messages, open_api=open_api)


def test_the_open_apis_refused_models_are_read_and_checked(tmp_path):
    refused = {"PowerOcean Plus": ["R371", "HJ3C"], "Ocean 2": ["RE11"]}
    path = mapping_with(tmp_path, refused)
    assert load_powerocean_mapping(path).open_api.refused_models == {
        "PowerOcean Plus": ("R371", "HJ3C"),
        "Ocean 2": ("RE11",),
    }
    for bad, reason in (
        (["R371"], "'refused_models' must map model names to serial prefixes"),
        ({"Ocean 2": "RE11"}, "'Ocean 2' must be a list of serial prefixes"),
    ):
        path = mapping_with(tmp_path, bad)
        with pytest.raises(MappingError) as raised:
            load_powerocean_mapping(path)
        assert str(raised.value) == f"{path}: open_api: {reason}"

"""Mapping files: what loads, and what is refused (naming the file, the entry and the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exporter.model import MappingError
from exporter.powerocean.channels import load_powerocean_mapping
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

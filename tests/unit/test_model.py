"""Mapping files: what loads, and what is refused (naming the file, the entry and the reason)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from exporter.model import MappingError
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.wire import DATA_REQUESTS
from exporter.refu.channels import load_refu_mapping
from tests.support.paths import PROJECT_ROOT

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
#: A key a table row leaves out of the entry it changes.
DROP = object()
#: The keys of a register, left out of an entry whose value is not on the bus.
NO_REGISTER = {"register": DROP, "function": DROP, "type": DROP}


def write(tmp_path: Path, *entries: dict, device: str = "refu", **top: object) -> Path:
    path = tmp_path / f"{device}.yaml"
    path.write_text(yaml.safe_dump({"device": device, **top, "channels": list(entries)}))
    return path


def test_an_installed_package_reads_the_mappings_it_ships(tmp_path):
    """Laid out as the wheel lays it out, with no source tree beside it."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    site = tmp_path / "site-packages"
    ignore = shutil.ignore_patterns("__pycache__")
    for package in wheel["packages"]:
        shutil.copytree(PROJECT_ROOT / package, site / package, ignore=ignore)
    for source, target in wheel["force-include"].items():
        shutil.copytree(PROJECT_ROOT / source, site / target)
    program = (
        "from exporter.refu.channels import load_refu_mapping\n"
        "print(load_refu_mapping().model.path, end='')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == str(site / "exporter" / "mappings" / "refu.yaml")


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
    ("text", "reason"),
    [
        pytest.param("", "expected a mapping with 'device' and 'channels'", id="empty"),
        pytest.param(
            "- refu.BatteryVoltage\n",
            "expected a mapping with 'device' and 'channels'",
            id="a-list",
        ),
        pytest.param(
            "channels: []\n",
            "expected keys 'device' (text) and 'channels' (a list)",
            id="no-device",
        ),
        pytest.param(
            "device: refu\nchannels: {refu.BatteryVoltage: 0x11e}\n",
            "expected keys 'device' (text) and 'channels' (a list)",
            id="channels-not-a-list",
        ),
        pytest.param(
            "device: refu\nchannels:\n- refu.BatteryVoltage\n",
            "channels[0]: an entry must be a mapping",
            id="entry-not-a-mapping",
        ),
    ],
)
def test_a_mapping_of_the_wrong_shape_is_refused_naming_file_and_reason(tmp_path, text, reason):
    path = tmp_path / "refu.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as raised:
        load_refu_mapping(path)
    assert str(raised.value) == f"{path}: {reason}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            {"type": "int17"},
            "unknown type or word order: 'int17' is not a valid RegisterType",
            id="type",
        ),
        pytest.param({"scale": 0}, "bad scale 0: every value would read 0", id="scale-0"),
        pytest.param({"scale": "ten"}, "bad scale 'ten': must be a finite number", id="scale-text"),
        pytest.param(
            {"unit": "kilowatts"},
            "unknown unit 'kilowatts' (one of: amperes, celsius, coulombs, hertz, joules, ohms,"
            " ratio, seconds, volt_amperes, volt_amperes_reactive, volts, watts)",
            id="unit",
        ),
        pytest.param(
            {"metric": "refu_battery_voltage"},
            "metric 'refu_battery_voltage' must end in its unit '_volts'",
            id="metric-without-unit",
        ),
        pytest.param(
            {"metric": "ess_battery_voltage_volts"},
            "metric 'ess_battery_voltage_volts' must be snake_case and start with 'refu_'",
            id="metric-prefix",
        ),
        pytest.param(
            {"metric": "refu_battery_voltage_volts_total"},
            "'refu_battery_voltage_volts_total' ends in '_total' but is not a counter",
            id="total-not-a-counter",
        ),
        pytest.param(
            {"kind": "counter"},
            "counter 'refu_battery_voltage_volts' must end in '_total'",
            id="counter-without-total",
        ),
        pytest.param({"help": DROP}, "missing key 'help'", id="no-help"),
        pytest.param({"help": " "}, "'help' must be non-empty text", id="blank-help"),
        pytest.param({"kind": "enum"}, "an enum needs 'states'", id="enum-without-states"),
        pytest.param(
            {"kind": "enum", "states": ["Off", "On"]},
            "'states' must map whole numbers to texts",
            id="states-a-list",
        ),
        pytest.param(
            {"kind": "bitfield", "bits": {64: "overvoltage"}},
            "bit numbers must be 0..63",
            id="bit-64",
        ),
        pytest.param(
            {"kind": "info", "metric": "refu_battery_info", "unit": DROP, "label": "Voltage"},
            "bad label name 'Voltage'",
            id="info-label",
        ),
        pytest.param({"first_index": 2}, "first_index must be 0 or 1", id="first-index"),
        pytest.param(
            {"labels": ["L1"]}, "'labels' must be a mapping of label name to value", id="labels"
        ),
        pytest.param(
            {"labels": {"target": "L1"}}, "bad constant label name 'target'", id="reserved-label"
        ),
        pytest.param(
            {"function": 6}, "function 6 is not a Modbus read (one of 1, 2, 3, 4)", id="function"
        ),
        pytest.param(
            {"register": 0x10000}, "register 65536 must be a number 0..65535", id="register"
        ),
        pytest.param(
            {"type": "bool"},
            "type 'bool' goes with functions 1 and 2, and only there",
            id="bool-of-function-4",
        ),
        pytest.param(
            {"register": 0xFFFF, "type": "int32"},
            "register 0xffff runs past the last register (0xffff)",
            id="past-the-last-register",
        ),
        pytest.param(
            {"value": {"constant": 1}},
            "an entry has either 'register' or 'value', not both",
            id="register-and-value",
        ),
        pytest.param(
            {**NO_REGISTER, "value": {"constant": 1, "config": "capacity_wh"}},
            "'value' needs exactly one of 'constant', 'config', 'count_bits'",
            id="value-of-two-kinds",
        ),
        pytest.param(
            {**NO_REGISTER, "value": {"config": "capacity_wh"}},
            "configured value 'capacity_wh' needs a 'default'",
            id="config-without-default",
        ),
        pytest.param(
            {**NO_REGISTER, "value": {"config": "capacity_wh", "default": {"constant": 130}}},
            "a default can only refer to another configured value",
            id="default-a-constant",
        ),
        pytest.param(
            {**NO_REGISTER, "value": {"count_bits": ["refu.BatteryAlarm1"]}},
            "'count_bits' must be a list of {source, mask}",
            id="count-bits-of-texts",
        ),
    ],
)
def test_a_bad_entry_is_refused_naming_file_entry_and_reason(tmp_path, change, reason):
    changed = {**GOOD, "source": "refu.Broken", "register": 0x200, **change}
    path = write(
        tmp_path, GOOD, {key: value for key, value in changed.items() if value is not DROP}
    )
    with pytest.raises(MappingError) as raised:
        load_refu_mapping(path)
    assert str(raised.value) == f"{path}: channels[1] (refu.Broken): {reason}"


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


def test_a_bit_count_of_an_unknown_channel_is_refused(tmp_path):
    warnings = {
        "source": "refu.Warnings",
        "value": {"count_bits": [{"source": "refu.BatteryVoltage"}, {"source": "refu.Alarm"}]},
        "metric": "refu_warnings",
        "help": "warnings",
    }
    path = write(tmp_path, GOOD, warnings)
    with pytest.raises(MappingError) as raised:
        load_refu_mapping(path)
    assert str(raised.value) == f"{path}: refu.Warnings: counts unknown ['refu.Alarm']"


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

#: Where an error in the entry of PHASE_POWER is named.
PHASE_POWER_ENTRY = f"channels[0] ({PHASE_POWER['source']})"


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


def bad_model(model: object, reason: str, case: str) -> object:
    """A case of the ocean2 mapping with ``model`` as its ``models`` entry."""
    return pytest.param(model, TELEMETRY, PHASE_POWER, "models.ocean2", reason, id=case)


def bad_route(route: object, reason: str, case: str) -> object:
    """A case of the ocean2 mapping with ``route`` as its message."""
    where = "messages.OCEAN2_TELEMETRY"
    return pytest.param(OCEAN2, route, PHASE_POWER, where, reason, id=case)


def bad_channel(changes: dict, where: str, reason: str, case: str) -> object:
    """A case of the ocean2 mapping with ``changes`` to its channel, refused at ``where``."""
    return pytest.param(OCEAN2, TELEMETRY, {**PHASE_POWER, **changes}, where, reason, id=case)


@pytest.mark.parametrize(
    ("model", "route", "channel", "where", "reason"),
    [
        bad_model(
            {**OCEAN2, "commands": ["254/46"]},
            "254/46 has no message of model 'ocean2'",
            "a-command-of-no-message",
        ),
        bad_model(
            {**OCEAN2, "data_requests": ["latest_quotas", "energy_stream_switch"]},
            "'data_requests': ['energy_stream_switch'] are no requests; there are"
            " energy_stream, get_all, latest_quotas",
            "an-unknown-data-request",
        ),
        bad_model("RE11", "must be a mapping", "model-a-text"),
        bad_model(
            {**OCEAN2, "commands": ["254-39"]},
            "'254-39' is not cmd_func/cmd_id",
            "model-command-not-func-id",
        ),
        bad_route(
            {**TELEMETRY, "keyed_lists": {"inverter.phases": "phase"}},
            "keyed_lists: 'inverter.phases' is not a repeated message with 'phase'",
            "a-keyed-list-not-repeated",
        ),
        bad_route(
            {**TELEMETRY, "keyed_lists": {"inverter.phases.phase": "volt"}},
            "keyed_lists: 'volt' of 'inverter.phases.phase' is not a whole number",
            "a-keyed-list-key-not-whole",
        ),
        bad_route(
            {**TELEMETRY, "keyed_lists": {"inverter.phase.phase": "phase"}},
            "keyed_lists: no field 'phase' on the way to 'inverter.phase.phase'",
            "a-keyed-list-of-no-field",
        ),
        bad_route(
            {**TELEMETRY, "keyed_lists": ["inverter.phases.phase"]},
            "'keyed_lists' must map paths to field names",
            "keyed-lists-a-list",
        ),
        bad_route("254/39", "must be a mapping", "message-a-text"),
        bad_route(
            {**TELEMETRY, "cmd_id": "39"},
            "needs whole-number cmd_func and cmd_id",
            "cmd-id-a-text",
        ),
        bad_route(
            {**TELEMETRY, "model": "ocean3"},
            "model 'ocean3' is not listed under 'models'",
            "message-of-an-unknown-model",
        ),
        bad_route(
            {**TELEMETRY, "schema": "Ocean3Telemetry"},
            "'Ocean3Telemetry' is not a message of the schema",
            "an-unknown-schema-message",
        ),
        bad_route(
            {**TELEMETRY, "entries": "phases"},
            "no field 'phases' holding messages",
            "entries-of-no-field",
        ),
        bad_route(
            {**TELEMETRY, "newest_by": "timestamp"},
            "'entry_key', 'tells_model' and 'newest_by' need fields of the entry: ['timestamp']",
            "newest-by-of-no-field",
        ),
        bad_route(
            {**TELEMETRY, "entry_label": "inverter"},
            "'entry_label' and 'entry_key' must be given together",
            "entry-label-without-entry-key",
        ),
        bad_channel(
            {"sign_inverted_on": ["RE43"]},
            PHASE_POWER["source"],
            "'sign_inverted_on' ['RE43'] are not serial prefixes of model 'ocean2'",
            "sign-inverted-on-another-model",
        ),
        bad_channel(
            {"field": ["inverter.ac_power", "inverter.acpower"]},
            PHASE_POWER["source"],
            "no field 'acpower' in Ocean2Inverter",
            "a-fallback-of-no-field",
        ),
        bad_channel(
            {"field": []},
            PHASE_POWER_ENTRY,
            "'field' must be a path or a list of paths",
            "field-an-empty-list",
        ),
        bad_channel(
            {"quota": 3}, PHASE_POWER_ENTRY, "'message' and 'quota' must be text", "quota-a-number"
        ),
        bad_channel(
            {"message": "OPEN_API_QUOTA", "field": ["act_pwr"]},
            PHASE_POWER_ENTRY,
            "'field' must be text",
            "open-api-field-a-list",
        ),
        bad_channel({"sum": "yes"}, PHASE_POWER_ENTRY, "'sum' must be true or false", "sum-a-text"),
        bad_channel(
            {"field": "inverter.ac_power.watts"},
            PHASE_POWER["source"],
            "'watts' follows a field that is not a message",
            "field-past-a-number",
        ),
        bad_channel(
            {"field": "inverter.0.ac_power"},
            PHASE_POWER["source"],
            "position 0 follows no repeated message",
            "position-after-a-single-message",
        ),
        bad_channel(
            {"field": "inverter.phases.phase.act_pwr"},
            PHASE_POWER["source"],
            "a position must follow the repeated message 'phase'",
            "repeated-message-without-position",
        ),
        bad_channel(
            {"field": "inverter.phases"},
            PHASE_POWER["source"],
            "inverter.phases does not end at a field of kind gauge",
            "field-ending-at-a-message",
        ),
    ],
)
def test_a_bad_ocean2_key_is_refused_naming_where_and_why(
    tmp_path, model, route, channel, where, reason
):
    path = write_ocean2(tmp_path, channel, model=model, route=route)
    with pytest.raises(MappingError) as raised:
        load_powerocean_mapping(path)
    assert str(raised.value) == f"{path}: {where}: {reason}"


OCEAN2_MODULES = {
    "cmd_func": 254,
    "cmd_id": 46,
    "model": "ocean2",
    "schema": "Ocean2ModuleReport",
    "entries": "module",
    "entry_label": "pack",
    "entry_key": ["bpSn"],
}
MODULE_POWER = {
    **PHASE_POWER,
    "source": "OCEAN2_MODULE_REPORT.bpPwr",
    "message": "Ocean2ModuleReport",
    "field": "bpPwr",
    "sign_inverted_on": [],
    "variant": "",
}


@pytest.mark.parametrize(
    ("sections", "channels", "reason"),
    [
        pytest.param(
            {"messages": {"OCEAN2_TELEMETRY": TELEMETRY, "OCEAN2_TELEMETRY_TOO": TELEMETRY}},
            [PHASE_POWER],
            "messages.OCEAN2_TELEMETRY_TOO: same command as OCEAN2_TELEMETRY",
            id="two-messages-of-one-command",
        ),
        pytest.param(
            {
                "models": {"ocean2": OCEAN2, "ocean3": {"commands": ["254/39"]}},
                "messages": {
                    "OCEAN2_TELEMETRY": TELEMETRY,
                    "OCEAN3_TELEMETRY": {**TELEMETRY, "model": "ocean3"},
                },
            },
            [PHASE_POWER],
            "models.ocean3: 254/39 tells model 'ocean2' already",
            id="a-command-telling-two-models",
        ),
        pytest.param(
            {"models": ["ocean2"]},
            [PHASE_POWER],
            "models: must be a mapping",
            id="models-a-list",
        ),
        pytest.param(
            {},
            [{**MODULE_POWER, "field": "module.0.bpPwr"}],
            "OCEAN2_MODULE_REPORT.bpPwr: message 'Ocean2ModuleReport' has no route",
            id="a-channel-of-no-message",
        ),
        pytest.param(
            {"messages": {"OCEAN2_TELEMETRY": TELEMETRY, "OCEAN2_MODULE_REPORT": OCEAN2_MODULES}},
            [PHASE_POWER, MODULE_POWER],
            "OCEAN2_MODULE_REPORT.bpPwr: powerocean_phase_active_power_watts mixes different"
            " entry labels",
            id="a-metric-of-two-entry-labels",
        ),
        pytest.param(
            {"ignored_commands": {"96/9": ""}},
            [PHASE_POWER],
            "ignored_commands.96/9: needs a name",
            id="an-ignored-command-without-name",
        ),
        pytest.param(
            {"integrated_energy": {"max_gap_seconds": 0}},
            [PHASE_POWER],
            "integrated_energy: max_gap_seconds must be a positive number",
            id="max-gap-0",
        ),
        pytest.param(
            {
                "integrated_energy": {
                    "flows": [
                        {"flow": "solar", "message": "OCEAN2_TELEMETRY", "field": "x", "sign": 2}
                    ]
                }
            },
            [PHASE_POWER],
            "integrated_energy.flows[0]: sign must be 1 or -1",
            id="a-flow-of-sign-2",
        ),
        pytest.param(
            {
                "integrated_energy": {
                    "flows": [
                        {
                            "flow": "solar",
                            "message": "OCEAN2_TELEMETRY",
                            "field": "summary.solar_power",
                        },
                        {"flow": "grid", "message": "OCEAN2_TELEMETRI", "field": "grid_power"},
                    ]
                }
            },
            [PHASE_POWER],
            "integrated_energy.flows[1]: 'OCEAN2_TELEMETRI' is not a message of a system",
            id="a-flow-of-no-message",
        ),
    ],
)
def test_a_bad_powerocean_section_is_refused_naming_where_and_why(
    tmp_path, sections, channels, reason
):
    ocean2 = {"models": {"ocean2": OCEAN2}, "messages": {"OCEAN2_TELEMETRY": TELEMETRY}}
    path = write(tmp_path, *channels, device="powerocean", **{**ocean2, **sections})
    with pytest.raises(MappingError) as raised:
        load_powerocean_mapping(path)
    assert str(raised.value) == f"{path}: {reason}"


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

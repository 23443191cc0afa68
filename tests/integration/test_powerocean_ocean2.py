"""The Ocean 2 through Mosquitto: each block of its 254/39 and its modules (254/46), its
partial reports, the sign its units send, and the same metrics as a PowerOcean's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exporter.app import Exporter
from exporter.configfile import Config
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.simulate.powerocean import MODELS, build_payload
from tests.support.exporters import start_exporter
from tests.support.mosquitto import Mosquitto, Subscriber
from tests.support.powerocean_messages import (
    OCEAN2_MODULE,
    OCEAN2_MODULES,
    OCEAN2_SERIAL,
    OCEAN2_TELEMETRY,
    ocean2_both_flow_blocks,
    ocean2_full_telemetry,
    ocean2_inverter_delta,
    ocean2_module,
    ocean2_payload,
    ocean2_phase_delta,
)
from tests.support.scrape import Scrape, scrape_until


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with Mosquitto(tmp_path_factory.mktemp("mosquitto")) as mosquitto:
        yield mosquitto


def exporting(broker: Mosquitto, *serials: str) -> Exporter:
    """An exporter reading ``serials`` from ``broker``, connected to it."""
    config = Config(
        powerocean=PowerOceanConfig(
            devices={serial: serial for serial in serials},
            broker=BrokerConfig(url=broker.url, ca_file=broker.ca_file),
        )
    )
    exporter = start_exporter(config)
    scrape_until(exporter.port, lambda r: r.values("powerocean_mqtt_connected") == [1])
    return exporter


def received(serial: str, message: str, count: int):
    """Scrape predicate: ``count`` messages of ``message`` from ``serial`` are in."""

    def arrived(scrape: Scrape) -> bool:
        found = scrape.values("powerocean_messages_received_total", serial=serial, message=message)
        return bool(found) and found[0] >= count

    return arrived


def test_each_block_of_a_get_all_answer(broker):
    exporter = exporting(broker, OCEAN2_SERIAL)
    try:
        with Subscriber(broker) as device:
            device.publish(
                f"/app/device/property/{OCEAN2_SERIAL}",
                ocean2_payload(
                    OCEAN2_SERIAL,
                    (OCEAN2_TELEMETRY, ocean2_full_telemetry()),
                    (OCEAN2_MODULE, ocean2_module(OCEAN2_MODULES[0], 1)),
                    (OCEAN2_MODULE, ocean2_module(OCEAN2_MODULES[1], 2, power=-1905.5)),
                ),
            )
            r = scrape_until(exporter.port, received(OCEAN2_SERIAL, "OCEAN2_MODULE_REPORT", 2))
    finally:
        exporter.stop()
    system = {"serial": OCEAN2_SERIAL}
    assert r.value("powerocean_system_info", **system, model="ocean2") == 1
    # The flow block: house, grid (+ import), solar, battery (+ charging), SoC.
    assert r.value("powerocean_load_power_watts", **system) == 4570
    assert r.value("powerocean_grid_power_watts", **system) == 0
    assert r.value("powerocean_solar_power_watts", **system) == 0
    assert r.value("powerocean_battery_power_watts", **system) == -4570  # discharging
    soc = r.value("powerocean_battery_state_of_charge_ratio", **system, report="energy_stream")
    assert soc == 0.81
    # The summary: energy left, the feed-in limit; its battery power of the other sign is
    # not exported.
    assert r.value("powerocean_battery_remaining_energy_joules", **system) == 12255 * 3600
    assert r.value("powerocean_feed_in_power_limit_watts", **system) == 10000
    # The inverter: AC power negative while feeding out, as a PowerOcean's; the grid meter.
    assert r.value("powerocean_inverter_active_power_watts", **system) == -4267.125
    assert r.value("powerocean_ac_frequency_hertz", **system) == 49.90625
    assert r.value("powerocean_grid_meter_power_watts", **system) == 2
    phase_a = {**system, "phase": "A"}
    assert r.value("powerocean_phase_voltage_volts", **phase_a) == 241.75
    assert r.value("powerocean_phase_current_amperes", **phase_a) == 17.875
    assert r.value("powerocean_phase_active_power_watts", **phase_a) == -4296.5
    assert r.value("powerocean_phase_reactive_power_volt_amperes_reactive", **phase_a) == 265.25
    assert r.value("powerocean_phase_apparent_power_volt_amperes", **phase_a) == 4304.5
    assert r.value("powerocean_phase_voltage_volts", **system, phase="B") == 0  # as sent
    assert r.value("powerocean_grid_phase_voltage_volts", **phase_a) == 241.625
    strings = {
        s.labels["string"]: s.value
        for s in r.samples
        if s.name == "powerocean_solar_string_voltage_volts"
    }
    assert strings == {"1": 34.0, "2": 28.75, "3": 31.5}  # the placeholder is no string
    # The modules, under "pack", by serial.
    pack = {**system, "pack": OCEAN2_MODULES[0]}
    assert r.value("powerocean_battery_pack_power_watts", **pack) == -2664.125
    assert r.value("powerocean_battery_pack_state_of_charge_ratio", **pack) == 0.47
    assert r.value("powerocean_battery_pack_real_state_of_charge_ratio", **pack) == 0.4890625
    assert r.value("powerocean_battery_pack_voltage_volts", **pack) == pytest.approx(15.975)
    assert r.value("powerocean_battery_pack_current_amperes", **pack) == -168.875
    assert r.value("powerocean_battery_pack_cycles_total", **pack) == 6
    assert r.value("powerocean_battery_pack_remaining_energy_joules", **pack) == 2409.25 * 3600
    assert r.value("powerocean_battery_pack_charged_energy_joules_total", **pack) == 35466 * 3600
    assert r.value("powerocean_battery_pack_max_cell_temperature_celsius", **pack) == 41
    assert r.value("powerocean_battery_pack_cell_voltage_volts", **pack, cell="5") == 3.216
    assert r.value("powerocean_battery_pack_info", **pack, pack_serial=OCEAN2_MODULES[0]) == 1
    power = {OCEAN2_MODULES[0]: -2664.125, OCEAN2_MODULES[1]: -1905.5}
    for serial, watts in power.items():
        assert r.value("powerocean_battery_pack_power_watts", **system, pack=serial) == watts
    assert r.value("powerocean_decode_errors_total", reason="unknown_command") == 0


def test_partial_reports_keep_what_they_leave_out_and_block_87_wins(broker):
    topic = f"/app/device/property/{OCEAN2_SERIAL}"
    exporter = exporting(broker, OCEAN2_SERIAL)
    try:
        with Subscriber(broker) as device:
            device.publish(topic, ocean2_payload(OCEAN2_SERIAL, (39, ocean2_full_telemetry())))
            scrape_until(exporter.port, received(OCEAN2_SERIAL, "OCEAN2_TELEMETRY", 1))
            device.publish(topic, ocean2_payload(OCEAN2_SERIAL, (39, ocean2_inverter_delta())))
            device.publish(topic, ocean2_payload(OCEAN2_SERIAL, (39, ocean2_phase_delta())))
            r = scrape_until(exporter.port, received(OCEAN2_SERIAL, "OCEAN2_TELEMETRY", 3))
            device.publish(topic, ocean2_payload(OCEAN2_SERIAL, (39, ocean2_both_flow_blocks())))
            both = scrape_until(exporter.port, received(OCEAN2_SERIAL, "OCEAN2_TELEMETRY", 4))
    finally:
        exporter.stop()

    def phase(name: str, letter: str) -> float:
        return r.value(f"powerocean_phase_{name}", serial=OCEAN2_SERIAL, phase=letter)

    # Phase A: power from the last delta, voltage and current from the get-all answer.
    assert phase("active_power_watts", "A") == -51.0
    assert phase("apparent_power_volt_amperes", "A") == 118.25
    assert (phase("voltage_volts", "A"), phase("current_amperes", "A")) == (241.75, 17.875)
    # Phase B: not in the last delta, so what the one before said; phase C in part.
    assert phase("active_power_watts", "B") == -348.0
    assert phase("active_power_watts", "C") == -57.0
    assert phase("apparent_power_volt_amperes", "C") == 369.5
    strings = {"serial": OCEAN2_SERIAL, "report": "heartbeat"}
    assert r.value("powerocean_solar_string_power_watts", **strings, string="2") == 609.75
    assert r.value("powerocean_solar_string_voltage_volts", serial=OCEAN2_SERIAL, string="2") == (
        105.25
    )
    # The flow block of the inverter delta left grid and battery out: unchanged since.
    assert r.value("powerocean_load_power_watts", serial=OCEAN2_SERIAL) == 1130
    assert r.value("powerocean_battery_power_watts", serial=OCEAN2_SERIAL) == -4570
    # Blocks 7 and 87 in one frame: 87's values, block 7's never.
    flows = {
        "powerocean_load_power_watts": 490,
        "powerocean_grid_power_watts": -1770,
        "powerocean_solar_power_watts": 2570,
        "powerocean_battery_power_watts": 310,
    }
    assert {name: both.value(name, serial=OCEAN2_SERIAL) for name in flows} == flows
    assert both.value("powerocean_grid_meter_power_watts", serial=OCEAN2_SERIAL) == -1966.375


#: Serials of each Ocean 2 prefix, and one no model lists; RE42 and RE43 units send the
#: inverter's AC power with the opposite sign.
SIGNS = {
    "RE11ZTEST0000001": 1.0,
    "RE17ZTEST0000001": 1.0,
    "RE41ZTEST0000001": 1.0,
    "RE42ZTEST0000001": -1.0,
    "RE43ZTEST0000001": -1.0,
    "RE99ZTEST0000001": 1.0,
}


def test_every_unit_shows_the_signs_of_a_powerocean(broker):
    """The same moment (4267 W fed out of the battery into the house) from each kind of
    unit, each with the signs its firmware uses: the same metrics and signs from all."""
    exporter = exporting(broker, *SIGNS)
    try:
        with Subscriber(broker) as device:
            for serial, sign in SIGNS.items():
                telemetry = ocean2_full_telemetry(ac_power=sign * 4267.125)
                device.publish(
                    f"/app/device/property/{serial}",
                    ocean2_payload(serial, (OCEAN2_TELEMETRY, telemetry)),
                )
            r = scrape_until(
                exporter.port,
                lambda r: all(received(s, "OCEAN2_TELEMETRY", 1)(r) for s in SIGNS),
            )
    finally:
        exporter.stop()
    for serial in SIGNS:
        system = {"serial": serial}
        assert r.value("powerocean_system_info", **system, model="ocean2") == 1, serial
        assert r.value("powerocean_inverter_active_power_watts", **system) == -4267.125, serial
        assert r.value("powerocean_phase_active_power_watts", **system, phase="A") == -4296.5
        assert r.value("powerocean_battery_power_watts", **system) == -4570, serial
        assert r.value("powerocean_load_power_watts", **system) == 4570, serial


#: The power flows, and what else a PowerOcean and an Ocean 2 both report, by metric name.
FLOWS = (
    "powerocean_load_power_watts",
    "powerocean_grid_power_watts",
    "powerocean_solar_power_watts",
    "powerocean_battery_power_watts",
)
SHARED = (
    *FLOWS,
    "powerocean_battery_state_of_charge_ratio",
    "powerocean_battery_remaining_energy_joules",
    "powerocean_inverter_active_power_watts",
    "powerocean_phase_active_power_watts",
    "powerocean_grid_meter_power_watts",
    "powerocean_battery_pack_power_watts",
    "powerocean_battery_pack_state_of_charge_ratio",
    "powerocean_battery_pack_real_state_of_charge_ratio",
    "powerocean_battery_pack_current_amperes",
    "powerocean_battery_pack_remaining_energy_joules",
)
#: Simulated moments, and the sign of the house load, grid, solar and battery power then.
MOMENTS = {
    "exporting": (900.0, (1, -1, 1, 1)),  # the battery charges at its limit, the rest goes out
    "discharging": (2700.0, (1, 0, 0, -1)),  # at night the battery runs the house
}


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_simulated_ocean2_and_powerocean_side_by_side(broker, moment):
    """The same moment from a simulated PowerOcean Plus, an Ocean 2 and an RE42 Ocean 2 (the
    inverter's power of the other sign on the wire): the same metrics, series and signs;
    the power flows the same, within the Ocean 2's whole watts."""
    offset, signs = MOMENTS[moment]
    at = 1_796_083_200 + offset
    systems = {"R371ZTEST0000001": "plus", "RE11ZTEST0000001": "ocean2"}
    systems["RE42ZTEST0000001"] = "ocean2"
    routes = load_powerocean_mapping().routes
    exporter = exporting(broker, *systems)
    try:
        with Subscriber(broker) as device:
            for serial, name in systems.items():
                messages = MODELS[name].make(serial).messages(at)
                frames = [(*routes[message].command, m) for message, m in messages.items()]
                device.publish(f"/app/device/property/{serial}", build_payload(serial, frames))
            r = scrape_until(
                exporter.port,
                lambda r: all(
                    r.has("powerocean_battery_pack_power_watts", serial=s) for s in systems
                ),
            )
    finally:
        exporter.stop()
    powerocean, *ocean2s = systems
    flows = [r.value(name, serial=powerocean) for name in FLOWS]
    assert [sign(value) for value in flows] == list(signs)
    for name in SHARED:
        expected = by_labels(r, name, powerocean)
        for serial in ocean2s:
            shown = by_labels(r, name, serial)
            assert shown and set(shown) <= set(expected), (name, serial)
            for labels, value in shown.items():
                assert sign(value) == sign(expected[labels]), (name, serial, labels)
                if name in FLOWS:
                    assert value == pytest.approx(expected[labels], abs=0.5), (name, serial)


def sign(value: float) -> int:
    return (value > 0) - (value < 0)


def by_labels(r: Scrape, name: str, serial: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of ``name`` of ``serial`` by their other labels; packs by position."""
    found = [s for s in r.samples if s.name == name and s.labels["serial"] == serial]
    packs = sorted({s.labels["pack"] for s in found if "pack" in s.labels})
    return {
        tuple(
            sorted(
                (k, str(packs.index(v)) if k == "pack" else v)
                for k, v in s.labels.items()
                if k != "serial"
            )
        ): s.value
        for s in found
    }


#: Every field of 254/39 and 254/46 the public sources name, as the schema names them.
NAMED_TELEMETRY = {
    "inverter.ac_power",
    "inverter.frequency",
    *(f"inverter.phases.phase.1.{f}" for f in ("volt", "amp", "act_pwr", "react_pwr")),
    "inverter.phases.phase.1.apparent_pwr",
    "inverter.phases.phase.1.phase",
    *(f"inverter.grid_phases.phase.1.{f}" for f in ("volt", "amp", "frequency", "act_pwr")),
    "inverter.grid_phases.phase.1.phase",
    "inverter.grid_meter_power",
    *(f"inverter.pv_strings.pv.1.{f}" for f in ("number", "volt", "amp", "pwr")),
    *(f"{block}.{f}" for block in ("energy_flow", "energy_flow_lagging") for f in (
        "home_power", "grid_power", "solar_power", "battery_power", "battery_soc"
    )),
    *(f"summary.{f}" for f in (
        "solar_power", "inverter_power", "inverter_power_signed", "feed_in_limit",
        "battery_remaining_energy", "soc", "battery_remaining_energy_copy",
        "battery_power_discharging",
    )),
}  # fmt: skip
NAMED_MODULE = {
    "bpPwr", "bpSoc", "bpSoh", "bpTemp", "bpMaxCellVol", "bpMinCellVol", "bpVol", "bpAmp",
    "bpCellVol", "bpDsrc", "bpSn", "bpCycles", "bpAccuChgCap", "bpAccuDsgCap", "bpDesignCap",
    "bpFullCap", "bpMaxCellTemp", "bpMinCellTemp", "bpMaxMosTemp", "bpMinMosTemp",
    "bpTimestamp", "bpRealSoc", "bpRealSoh", "bpRemainWatth", "bpAccuChgEnergy",
    "bpAccuDsgEnergy", "bpEcloundSoc",
}  # fmt: skip


def test_decode_names_every_field_the_public_sources_name(tmp_path):
    file = tmp_path / "ocean2.bin"
    file.write_bytes(
        ocean2_payload(
            "RE11XXXXXXXXXXXX",  # as a masked capture names it
            (OCEAN2_TELEMETRY, ocean2_full_telemetry()),
            (OCEAN2_TELEMETRY, ocean2_both_flow_blocks()),
            (OCEAN2_MODULE, ocean2_module(OCEAN2_MODULES[0], 1)),
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(file)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    full, flows, module = json.loads(run.stdout)["frames"]
    assert [f["message"] for f in (full, flows, module)] == [
        "OCEAN2_TELEMETRY",
        "OCEAN2_TELEMETRY",
        "OCEAN2_MODULE_REPORT",
    ]
    assert full["header"]["module_sn_copy"] == "RE11XXXXXXXXXXXX"
    assert set(full["fields"]) >= NAMED_TELEMETRY
    assert full["fields"]["summary.battery_power_discharging"] == 4580.0
    # What no source names stays raw, by number: 4.5, 64.1 and 64.2, the flow blocks' 6.
    assert full["unknown_fields"] == {
        "inverter.#5": 791.75,
        "energy_flow_lagging.#6": 0.0,
        "energy_flow.#6": 0.0,
        "#64": {"1": 7489.0, "2": 10821.25},
    }
    assert flows["unknown_fields"]["#64"] == {"1": 306.5, "2": 5879.5}
    [(name, entry)] = module["entries"].items()
    assert name == f"pack={OCEAN2_MODULES[0]}"
    assert set(entry["fields"]) == NAMED_MODULE
    assert entry["unknown_fields"] == {"#69": 3221.0}
    assert module["unknown_fields"] == {"#1": 30, "#20": {"1": 240.25}}

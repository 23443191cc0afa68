"""The REFU scrape path end to end: simulator (real pymodbus TCP server) -> exporter -> HTTP."""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from exporter.model import Kind
from exporter.refu.channels import Register, load_refu_mapping
from exporter.simulate import free_port
from tests.support.exporters import refu_config
from tests.support.paths import PROJECT_ROOT, REFU_TYPES_MAPPING
from tests.support.polling import until
from tests.support.refu_simulator import ControlledRefuSimulator
from tests.support.scrape import Scrape, get, scrape

MAPPING = load_refu_mapping()
SEED = PROJECT_ROOT.parent / "shared" / "seeds" / "refu-ess-channels.md"
WRITE_FUNCTIONS = {5, 6, 15, 16, 22, 23}
#: Slack on top of a time the exporter promises, for a busy machine.
MARGIN_SECONDS = 3.0


def metrics_of(exporter) -> Scrape:
    result = scrape(f"http://127.0.0.1:{exporter.port}/metrics")
    assert result.status == 200
    return result


def probe(exporter, target: str, timeout_header: str | None = None) -> Scrape:
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": timeout_header} if timeout_header else {}
    url = f"http://127.0.0.1:{exporter.port}/probe?module=refu&target={target}"
    result = scrape(url, headers)
    assert result.status == 200
    return result


def assert_channel(result: Scrape, channel, expected, target: str) -> None:
    """``expected`` is the exported value (for enums and bitfields: the raw number)."""
    labels = {"target": target, **dict(channel.labels)}
    name = channel.metric
    if channel.kind in (Kind.GAUGE, Kind.COUNTER):
        assert math.isclose(result.value(name, **labels), expected, rel_tol=1e-9), channel.seed_id
    elif channel.kind is Kind.ENUM:
        for value, state in channel.states.items():
            assert result.value(name, state=state, **labels) == float(value == expected), state
    elif channel.kind is Kind.BITFIELD:
        for bit, text in channel.bits.items():
            assert result.value(name, bit=str(bit), alarm=text, **labels) == (expected >> bit) & 1
        undocumented = expected & ~sum(1 << b for b in channel.bits)
        for bit in range(16):
            present = result.has(name, bit=str(bit), alarm="undocumented", **labels)
            assert present == bool(undocumented >> bit & 1), (channel.seed_id, bit)
    else:
        raise AssertionError(f"unexpected kind {channel.kind}")


def test_every_seed_channel_is_exported_with_its_scaled_value(refu_sim, exporter_for):
    refu_sim.pin("refu.BatteryFault7", 1 << 3)  # a set bit no text describes
    exporter = exporter_for(refu_config(refu_sim, alias="garage", min_soc_percent=20))
    result = metrics_of(exporter)

    expected = refu_sim.expected()
    for channel in MAPPING.register_channels:
        assert_channel(result, channel, expected[channel.seed_id], "refu-1")

    assert result.value("refu_device_info", target="refu-1", alias="garage") == 1
    assert result.value("refu_battery_capacity_joules", target="refu-1") == 130000 * 3600
    assert result.value("refu_max_nominal_power_volt_amperes", target="refu-1") == 100000
    assert result.value("refu_allowed_apparent_power_volt_amperes", target="refu-1") == 100000
    assert result.value("refu_grid_mode", target="refu-1", state="On-Grid") == 1
    assert result.value("refu_battery_min_state_of_charge_ratio", target="refu-1") == 0.20
    assert math.isclose(
        result.value("refu_battery_force_charge_state_of_charge_ratio", target="refu-1"), 0.18
    )
    assert result.value("refu_up", target="refu-1") == 1

    exported = {s.name for s in result.samples}
    assert {channel.metric for channel in MAPPING.channels} <= exported


def test_the_mapping_covers_the_seed_list():
    if not SEED.is_file():
        pytest.skip("seed list not beside the project")
    names = {
        line.split("|")[1]
        for line in SEED.read_text().splitlines()
        if line.startswith("|") and line.split("|")[1] not in ("ChannelName", "---")
    }
    assert {c.seed_id.removeprefix("refu.") for c in MAPPING.channels} == names


def test_signs_follow_the_device_conventions(refu_sim, exporter_for):
    refu_sim.pin("refu.ActivePower", -3000)  # charging: power flows into the battery
    refu_sim.pin("refu.AllowedCharge", -8000)  # a charge limit is negative
    refu_sim.pin("refu.AllowedDischarge", 9000)
    refu_sim.pin("refu.BatteryCurrent", -12.5)
    result = metrics_of(exporter_for(refu_config(refu_sim)))
    assert result.value("refu_active_power_watts", target="refu-1") == -3000
    assert result.value("refu_battery_allowed_charge_power_watts", target="refu-1") == -8000
    assert result.value("refu_battery_allowed_discharge_power_watts", target="refu-1") == 9000
    assert result.value("refu_battery_current_amperes", target="refu-1") == pytest.approx(-12.5)


def test_an_enum_flips_state_and_an_unknown_value_stays_visible(refu_sim, exporter_for):
    exporter = exporter_for(refu_config(refu_sim))
    refu_sim.pin("refu.SystemState", 4)
    result = metrics_of(exporter)
    assert result.value("refu_system_state", state="Start") == 1
    assert result.value("refu_system_state", state="Fault") == 0

    refu_sim.pin("refu.SystemState", 5)
    result = metrics_of(exporter)
    assert result.value("refu_system_state", state="Start") == 0
    assert result.value("refu_system_state", state="Fault") == 1

    refu_sim.pin("refu.SystemState", 9)
    result = metrics_of(exporter)
    assert result.value("refu_system_state", state="9") == 1
    assert sum(result.values("refu_system_state")) == 1


def test_a_fault_bit_raises_its_alarm_series(refu_sim, exporter_for):
    exporter = exporter_for(refu_config(refu_sim))
    refu_sim.pin("refu.BatteryFault1", 0)
    leakage = {"word": "1", "bit": "1", "alarm": "Normal leakage of battery group"}
    assert metrics_of(exporter).value("refu_battery_fault", **leakage) == 0
    refu_sim.pin("refu.BatteryFault1", 1 << 1)
    result = metrics_of(exporter)
    assert result.value("refu_battery_fault", **leakage) == 1
    assert sum(result.values("refu_battery_fault", word="1")) == 1


def test_a_32_bit_counter_above_65535_reads_low_word_first(refu_sim, exporter_for):
    refu_sim.pin("refu.BatteryChargeEnergy", 70_000 * 3_600_000)  # kWh on the wire
    refu_sim.pin("refu.BatteryDischargeEnergy", 0x12345 * 3_600_000)
    result = metrics_of(exporter_for(refu_config(refu_sim)))
    assert result.families["refu_battery_charge_energy_joules"] == "counter"
    assert result.value("refu_battery_charge_energy_joules_total") == 70_000 * 3_600_000
    assert result.value("refu_battery_discharge_energy_joules_total") == 0x12345 * 3_600_000


def test_every_register_type_and_word_order_reads_as_the_device_sends_it(exporter_for):
    mapping = load_refu_mapping(REFU_TYPES_MAPPING)
    with ControlledRefuSimulator("127.0.0.1", free_port(), mapping=mapping) as sim:
        sim.pin("refu.EnergyOut", 0x0001_0002 * 3600)  # uint32, most significant word first
        sim.pin("refu.GridBalance", -70_000)  # int32, most significant word first
        sim.pin("refu.Stored", 70_000 * 3600)  # int32, least significant word first
        sim.pin("refu.CabinetTemperature", -12.5)  # int16 in 0.1 degrees
        sim.pin("refu.Fill", 0.82)  # uint16 in %
        sim.pin("refu.Mode", 2)
        sim.pin("refu.Alarms", 1 << 3 | 1 << 5)
        result = metrics_of(exporter_for(refu_config(sim), mapping))
    assert result.value("refu_energy_out_joules_total") == 235_936_800
    assert result.value("refu_grid_balance_watts") == -70_000
    assert result.value("refu_stored_energy_joules") == 252_000_000
    assert result.value("refu_cabinet_temperature_celsius") == pytest.approx(-12.5)
    assert result.value("refu_fill_ratio") == pytest.approx(0.82)
    modes = {s.labels["state"]: s.value for s in result.samples if s.name == "refu_mode"}
    assert modes == {"Off": 0, "Standby": 0, "Running": 1}
    alarms = {
        (s.labels["bit"], s.labels["alarm"]): s.value
        for s in result.samples
        if s.name == "refu_alarm"
    }
    assert alarms == {
        ("0", "Overvoltage"): 0,
        ("3", "Overtemperature"): 1,
        ("5", "undocumented"): 1,
    }


def test_two_requests_per_scrape_and_never_a_write(refu_sim, exporter_for):
    exporter = exporter_for(refu_config(refu_sim))
    metrics_of(exporter)
    refu_sim.requests.clear()
    result = metrics_of(exporter)
    assert sorted(refu_sim.requests) == [(3, 0x200, 11), (4, 0x100, 0x56)]
    assert result.value("refu_modbus_requests_total", target="refu-1") == 4
    for _ in range(3):
        probe(exporter, f"127.0.0.1:{refu_sim.port}")
    assert {function for function, _, _ in refu_sim.requests} <= {3, 4}
    assert not {function for function, _, _ in refu_sim.requests} & WRITE_FUNCTIONS


def test_metrics_and_probe_count_their_own_requests_for_the_same_device(refu_sim, exporter_for):
    exporter = exporter_for(refu_config(refu_sim))
    for _ in range(3):
        metrics_of(exporter)
    probed = probe(exporter, f"127.0.0.1:{refu_sim.port}")
    configured = metrics_of(exporter)
    assert probed.value("refu_modbus_requests_total") == 2  # one scrape: two block reads
    assert configured.value("refu_modbus_requests_total", target="refu-1") == 8


def test_probes_show_new_values_under_the_target_name_asked_for(refu_sim, exporter_for):
    exporter = exporter_for(refu_config())
    plain, padded = f"127.0.0.1:{refu_sim.port}", f"127.0.0.1:0{refu_sim.port}"
    refu_sim.pin("refu.ActivePower", -3000)
    assert probe(exporter, plain).value("refu_active_power_watts", target=plain) == -3000
    refu_sim.pin("refu.ActivePower", 2500)
    assert probe(exporter, plain).value("refu_active_power_watts", target=plain) == 2500
    again = probe(exporter, padded)  # the same device, asked for by another name
    assert again.value("refu_active_power_watts", target=padded) == 2500
    assert not again.has("refu_active_power_watts", target=plain)


def test_a_refused_block_is_split_and_the_rest_still_exported(exporter_for):
    port = free_port()
    with ControlledRefuSimulator(
        "127.0.0.1", port, refuse=[(4, 0x119, 0x119), (3, 0x203, 0x20A)]
    ) as sim:
        sim.freeze(at=1000.0)
        exporter = exporter_for(refu_config(sim))
        first = metrics_of(exporter)
        assert first.value("refu_up", target="refu-1") == 1
        assert first.value("refu_modbus_exceptions_total", target="refu-1") >= 2
        expected = sim.expected()
        for channel in MAPPING.register_channels:
            readable = not (channel.location.function == 3 and channel.location.register >= 0x203)
            if channel.kind in (Kind.GAUGE, Kind.COUNTER):
                labels = dict(channel.labels)
                assert first.has(channel.metric, **labels) == readable, channel.seed_id
                if readable:
                    assert first.value(channel.metric, **labels) == pytest.approx(
                        expected[channel.seed_id]
                    )

        # The split is remembered: later scrapes send no refused read.
        sim.requests.clear()
        second = metrics_of(exporter)
        assert second.value("refu_battery_voltage_volts") == first.value(
            "refu_battery_voltage_volts"
        )
        assert (4, 0x100, 0x19) in sim.requests and (4, 0x11A, 0x3C) in sim.requests
        assert all(not (f == 4 and a <= 0x119 < a + n) for f, a, n in sim.requests)
        assert all(not (f == 3 and a + n > 0x203) for f, a, n in sim.requests)


def test_a_device_that_is_down_answers_in_time_with_up_0(exporter_for, refu_sim):
    dead = free_port()
    exporter = exporter_for(refu_config(refu_sim, timeout=3))
    started = time.monotonic()
    result = probe(exporter, f"127.0.0.1:{dead}")
    assert time.monotonic() - started < 3 + MARGIN_SECONDS
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason="connect_failed") == 1
    assert not result.has("refu_battery_voltage_volts")
    # The configured target is still served.
    assert metrics_of(exporter).value("refu_up", target="refu-1") == 1


def test_a_stalled_device_is_cut_off_at_the_scrape_timeout(exporter_for, refu_sim):
    port = free_port()
    with ControlledRefuSimulator("127.0.0.1", port, delay_seconds=30) as stalled:
        exporter = exporter_for(refu_config(refu_sim, stalled, timeout=10))
        started = time.monotonic()
        result = scrape(
            f"http://127.0.0.1:{exporter.port}/metrics",
            {"X-Prometheus-Scrape-Timeout-Seconds": "2"},
        )
        elapsed = time.monotonic() - started
        # 2 s allowed (minus an offset), not the configured 10 s.
        assert 1.0 <= elapsed < 2 + MARGIN_SECONDS
        assert result.value("refu_up", target="refu-2") == 0
        assert result.value("refu_scrape_errors_total", target="refu-2", reason="timeout") == 1
        assert result.value("refu_up", target="refu-1") == 1
        assert result.has("refu_battery_voltage_volts", target="refu-1")
        assert not result.has("refu_battery_voltage_volts", target="refu-2")


def test_different_targets_are_scraped_in_parallel(exporter_for, refu_sim):
    with (
        ThreadPoolExecutor(1) as scraper,
        ControlledRefuSimulator("127.0.0.1", free_port(), delay_seconds=60) as stalled,
    ):
        exporter = exporter_for(refu_config(stalled, refu_sim, timeout=30))
        scraping = scraper.submit(metrics_of, exporter)
        # refu-2 is read whole (two requests) while refu-1 has not answered its first.
        assert until(lambda: len(refu_sim.requests) == 2)
        assert len(stalled.requests) == 1
        stalled.stop()  # the scrape of refu-1 fails now, not after 30 s
        result = scraping.result()
    assert result.value("refu_up", target="refu-2") == 1
    assert result.value("refu_up", target="refu-1") == 0


def test_concurrent_scrapes_of_one_target_share_one_connection(exporter_for):
    with ControlledRefuSimulator("127.0.0.1", free_port(), delay_seconds=0.2) as sim:
        exporter = exporter_for(refu_config(sim))
        results: list[Scrape] = []
        threads = [
            threading.Thread(target=lambda: results.append(metrics_of(exporter))) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.value("refu_up", target="refu-1") for r in results] == [1, 1, 1, 1]
        assert sim.max_connections == 1


def test_probe_rejects_bad_parameters(exporter_for):
    exporter = exporter_for(refu_config())
    base = f"http://127.0.0.1:{exporter.port}/probe"
    assert scrape(f"{base}?module=refu").status == 400
    assert scrape(f"{base}?module=snmp&target=127.0.0.1:502").status == 400
    assert scrape(f"{base}?module=refu&target=127.0.0.1:502&unit_id=x").status == 400
    assert get(f"http://127.0.0.1:{exporter.port}/-/healthy") == (200, "Healthy\n")


def test_promtool_finds_nothing_to_complain_about(refu_sim, exporter_for):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed"
    refu_sim.pin("refu.BatteryFault7", 1 << 3)
    exporter = exporter_for(refu_config(refu_sim))
    text = metrics_of(exporter).text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


def test_no_register_channel_uses_a_write_function():
    assert all(isinstance(c.location, Register) for c in MAPPING.register_channels)
    assert {c.location.function for c in MAPPING.register_channels} <= {1, 2, 3, 4}

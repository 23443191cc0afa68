"""SunSpec end to end: simulator (real pymodbus TCP server) -> exporter -> HTTP."""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import pytest

from exporter.configfile import Config
from exporter.modbus.config import ModbusTargetConfig
from exporter.model import Kind
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator
from exporter.simulate.sunspec import REFUSTORE_88K, STORAGE_INVERTER, ChainSpec
from exporter.sunspec.channels import load_sunspec_mapping
from exporter.sunspec.config import SunSpecConfig
from tests.support.polling import until
from tests.support.scrape import Scrape, scrape
from tests.support.sunspec_simulator import ControlledSunSpecSimulator

MAPPING = load_sunspec_mapping()
CHANNELS = {c.seed_id: (c, g) for g in MAPPING.groups() for c in g.channels}
#: The models of the 88K that the exporter reads (64040 and 64041 are not).
MODELS_88K = {1, 103, 120, 121, 123, 64800}
#: The points the simulated 88K leaves not implemented (OpenEMS reads none of them).
NOT_IMPLEMENTED_88K = {
    "1.Opt", "103.PF", "103.TmpTrns", "103.TmpOt", "103.StVnd",
    "120.WHRtg", "120.AhrRtg", "120.MaxChaRte", "120.MaxDisChaRte",
}  # fmt: skip
#: Seconds into the simulated hour: feeding in, no fault.
RUNNING_AT = 1000.0


def simulator(
    port: int = 0, chain: ChainSpec = REFUSTORE_88K, max_read: int = 125
) -> ControlledSunSpecSimulator:
    sim = ControlledSunSpecSimulator(
        "127.0.0.1", port or free_port(), chain=chain, max_read=max_read
    )
    sim.freeze(sim.model.epoch + RUNNING_AT)
    return sim


@pytest.fixture
def refustore() -> Iterator[ControlledSunSpecSimulator]:
    with simulator() as sim:
        yield sim


@pytest.fixture
def storage() -> Iterator[ControlledSunSpecSimulator]:
    with simulator(chain=STORAGE_INVERTER) as sim:
        yield sim


def sunspec_config(*sims: ControlledSunSpecSimulator, timeout: float = 3.0) -> Config:
    targets = tuple(
        ModbusTargetConfig(f"inverter-{i}", "127.0.0.1", sim.port, 1)
        for i, sim in enumerate(sims, 1)
    )
    return Config(sunspec=SunSpecConfig(timeout_seconds=timeout, targets=targets))


def probe(exporter, port: int) -> Scrape:
    url = f"http://127.0.0.1:{exporter.port}/probe?module=sunspec&target=127.0.0.1:{port}"
    result = scrape(url)
    assert result.status == 200, result.text
    return result


def assert_point(result: Scrape, seed_id: str, expected: object, target: str) -> None:
    """``expected`` is the value in SunSpec units (its number times 10^scale factor)."""
    channel, _ = CHANNELS[seed_id]
    labels = {"target": target, **dict(channel.labels)}
    if channel.kind in (Kind.GAUGE, Kind.COUNTER):
        exported = result.value(channel.metric, **labels)
        assert math.isclose(exported, expected * channel.scale, rel_tol=1e-9), seed_id
    elif channel.kind is Kind.ENUM:
        states = {s.labels["state"]: s.value for s in result.samples if s.name == channel.metric}
        wanted = channel.states.get(expected, str(expected))
        assert states[wanted] == 1 and sum(states.values()) == 1, (seed_id, states)
    elif channel.kind is Kind.BITFIELD:
        for bit, text in channel.bits.items():
            assert result.value(channel.metric, bit=str(bit), alarm=text, **labels) == (
                expected >> bit & 1
            ), (seed_id, bit)
    else:
        info = channel.metric
        assert result.has(info, **{"target": target, channel.info_label: expected}), seed_id


def test_a_probe_of_the_88k_exports_every_point_it_implements(exporter_for, refustore):
    exporter = exporter_for(Config())
    result = probe(exporter, refustore.port)
    target = f"127.0.0.1:{refustore.port}"
    expected = refustore.expected()
    every_point = {s for s in CHANNELS if int(s.split(".")[0]) in MODELS_88K}
    assert set(expected) == every_point - NOT_IMPLEMENTED_88K
    for seed_id, value in expected.items():
        assert_point(result, seed_id, value, target)
    assert result.value("sunspec_up", target=target) == 1
    assert result.value("sunspec_inverter_ac_power_watts") > 0  # feeding in
    assert result.value("sunspec_inverter_operating_state", state="MPPT") == 1
    assert result.value(
        "sunspec_device_info",
        manufacturer="REFU Elektronik",
        model="REFUstore 88K",
        serial_number="88K0001234",
    )


def test_after_discovery_a_scrape_is_two_reads_and_never_a_write(exporter_for, refustore):
    exporter = exporter_for(Config())
    first = probe(exporter, refustore.port)
    assert first.value("sunspec_modbus_requests_total") == 12  # marker, 8 models, end, 2 reads
    refustore.requests.clear()
    second = probe(exporter, refustore.port)
    assert refustore.requests == [(3, 40002, 120), (3, 40122, 121)]
    assert second.value("sunspec_modbus_requests_total") == 14
    assert {function for function, _, _ in refustore.requests} == {3}


def test_the_chain_found_is_shown_model_by_model(exporter_for, refustore):
    result = probe(exporter_for(Config()), refustore.port)
    models = {
        (s.labels["model"], s.labels["name"], s.labels["register"])
        for s in result.samples
        if s.name == "sunspec_model_info"
    }
    assert models == {
        ("1", "common", "40002"),
        ("103", "inverter_three_phase", "40070"),
        ("120", "nameplate", "40122"),
        ("121", "settings", "40150"),
        ("123", "controls", "40182"),
        ("64040", "", "40208"),
        ("64041", "", "40213"),
        ("64800", "refu_mesa_pcs", "40225"),
    }


def test_not_implemented_points_make_no_series(exporter_for, refustore):
    result = probe(exporter_for(Config()), refustore.port)
    for seed_id in NOT_IMPLEMENTED_88K - {"1.Opt", "103.StVnd"}:
        channel, _ = CHANNELS[seed_id]
        assert not result.has(channel.metric, **dict(channel.labels)), seed_id
    assert result.has("sunspec_inverter_temperature_celsius", sensor="cabinet")
    assert not result.has("sunspec_inverter_vendor_operating_state")  # StVnd: 0xFFFF
    [info] = [s for s in result.samples if s.name == "sunspec_device_info"]
    assert "options" not in info.labels  # Opt: all NUL


def test_a_changed_scale_factor_is_applied_on_the_next_scrape(exporter_for, refustore):
    exporter = exporter_for(Config())
    refustore.pin(103, "W", 500, raw=True)
    refustore.pin(103, "W_SF", 1)
    assert probe(exporter, refustore.port).value("sunspec_inverter_ac_power_watts") == 5000
    refustore.pin(103, "W_SF", -1)
    assert probe(exporter, refustore.port).value("sunspec_inverter_ac_power_watts") == 50
    refustore.pin(103, "W_SF", None)  # not implemented (0x8000): the scale is unknown
    assert not probe(exporter, refustore.port).has("sunspec_inverter_ac_power_watts")


def test_refu_specifics_state_9_and_a_negative_dc_current(exporter_for, refustore):
    exporter = exporter_for(Config())
    refustore.pin(103, "St", 9)
    refustore.pin(103, "DCA", -25.5)
    result = probe(exporter, refustore.port)
    assert result.value("sunspec_inverter_operating_state", state="STARTED") == 1
    assert result.value("sunspec_inverter_operating_state", state="MPPT") == 0
    assert result.value("sunspec_inverter_dc_current_amperes") == pytest.approx(-25.5)


def test_a_fault_shows_as_state_and_event_bits(exporter_for, refustore):
    refustore.freeze(refustore.model.epoch + 590)  # the fault minute
    result = probe(exporter_for(Config()), refustore.port)
    assert result.value("sunspec_inverter_operating_state", state="FAULT") == 1
    events = {
        s.labels["alarm"]: s.value
        for s in result.samples
        if s.name == "sunspec_inverter_events" and s.labels["word"] == "1"
    }
    assert {alarm for alarm, value in events.items() if value} == {"GROUND_FAULT", "OVER_TEMP"}
    assert len(events) == 16


def test_a_single_phase_inverter_with_storage_at_register_0_needs_no_code(exporter_for, storage):
    result = probe(exporter_for(Config()), storage.port)
    target = f"127.0.0.1:{storage.port}"
    expected = storage.expected()
    assert {int(seed_id.split(".")[0]) for seed_id in expected} == {1, 101, 124}
    for seed_id, value in expected.items():
        assert_point(result, seed_id, value, target)
    assert result.value("sunspec_storage_basic_cha_st", state="DISCHARGING") == 1
    assert not result.has("sunspec_inverter_ac_phase_current_amperes", phase="B")
    assert result.value("sunspec_modbus_exceptions_total") == 1  # nothing at 40000


def test_configured_targets_are_read_on_metrics(exporter_for, refustore, storage):
    exporter = exporter_for(sunspec_config(refustore, storage))
    result = scrape(f"http://127.0.0.1:{exporter.port}/metrics")
    assert result.value("sunspec_up", target="inverter-1") == 1
    assert result.value("sunspec_up", target="inverter-2") == 1
    assert result.has("sunspec_inverter_ac_power_watts", target="inverter-1")
    assert result.has("sunspec_storage_basic_cha_state_ratio", target="inverter-2")
    assert result.value("sunspec_scrape_errors_total", target="inverter-1", reason="timeout") == 0


def test_a_device_that_is_not_sunspec_is_down_with_its_reason(exporter_for):
    with RefuSimulator("127.0.0.1", free_port()) as refu:
        result = probe(exporter_for(Config()), refu.port)
    assert result.value("sunspec_up") == 0
    assert result.value("sunspec_scrape_errors_total", reason="not_sunspec") == 1
    assert not result.has("sunspec_model_info")


def test_a_device_whose_chain_changed_is_walked_again(exporter_for):
    exporter = exporter_for(Config())
    port = free_port()
    with simulator(port=port) as before:
        assert probe(exporter, before.port).has("sunspec_refu_pcs_control_mode")
    with simulator(port=port, chain=STORAGE_INVERTER):
        assert until(lambda: probe(exporter, port).value("sunspec_up") == 1, timeout=20)
        result = probe(exporter, port)
    assert result.has("sunspec_storage_basic_cha_st")
    assert not result.has("sunspec_refu_pcs_control_mode")


def test_a_device_that_reads_less_at_once_gets_smaller_reads(exporter_for):
    with simulator(max_read=64) as small:
        exporter = exporter_for(Config())
        first = probe(exporter, small.port)
        for seed_id, value in small.expected().items():
            assert_point(first, seed_id, value, f"127.0.0.1:{small.port}")
        # Refused: both planned reads, and model 1 (68 registers) alone, cut in halves.
        assert first.value("sunspec_modbus_exceptions_total") == 3
        small.requests.clear()
        probe(exporter, small.port)  # the smaller reads are remembered
    assert small.requests == [
        (3, 40002, 34), (3, 40036, 34), (3, 40070, 52), (3, 40122, 60), (3, 40182, 61),
    ]  # fmt: skip


def test_a_model_replaced_in_place_is_noticed_by_its_header(exporter_for):
    """The same map, with model 101 where 103 was: the header read says so."""
    models = tuple((101, 50) if model == 103 else (model, n) for model, n in REFUSTORE_88K.models)
    single_phase = replace(REFUSTORE_88K, name="88k-single-phase", models=models, inverter=101)
    exporter = exporter_for(Config())
    port = free_port()
    with simulator(port=port) as before:
        assert probe(exporter, before.port).has("sunspec_model_info", model="103")
    with simulator(port=port, chain=single_phase):
        # The old connection is gone first; then the header fails the check once.
        assert until(lambda: probe(exporter, port).value("sunspec_up") == 1, timeout=20)
        again = probe(exporter, port)
    assert again.value("sunspec_scrape_errors_total", reason="chain_changed") == 1
    assert again.has("sunspec_model_info", model="101", name="inverter_single_phase")


def test_promtool_finds_nothing_to_complain_about(exporter_for, refustore, storage):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed"
    refustore.freeze(refustore.model.epoch + 590)
    exporter = exporter_for(sunspec_config(refustore, storage))
    text = scrape(f"http://127.0.0.1:{exporter.port}/metrics").text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr

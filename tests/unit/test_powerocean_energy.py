"""Energy: the device's hourly statistics (254/32), and the counters the exporter
integrates from the power a system reports."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.exposition import negotiate, write
from exporter.powerocean import proto
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.energy import positive_area
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.quota import QuotaIngest
from exporter.simulate.powerocean import Ocean2Model, PowerOceanModel, build_payload

pb = proto.powerocean_pb2
SERIAL = "J327TEST0001"
DAY = 86400
#: 2026-12-06 00:00 UTC, the start of a device day.
TODAY = 1_796_083_200


class System:
    """One configured system fed through the ingest, with a clock the test moves."""

    def __init__(self) -> None:
        self.now = float(TODAY)
        mapping = load_powerocean_mapping()
        self.cache = MessageCache()
        devices = Devices({SERIAL: SERIAL})
        self.ingest = Ingest(mapping, self.cache, devices, stale_after=300, clock=self.clock)
        self.collector = PowerOceanCollector(
            mapping,
            self.cache,
            self.ingest,
            None,
            devices=devices,
            stale_after=300,
            clock=self.clock,
        )

    def clock(self) -> float:
        return self.now

    def send(self, *frames: tuple[int, int, object]) -> None:
        self.ingest(f"/app/device/property/{SERIAL}", build_payload(SERIAL, list(frames)))

    def samples(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = write(list(self.collector.collect()), negotiate("text/plain")).decode()
        return {
            (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "serial"))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


def statistics(day: int, energy_type: int, watth: list[int], seq: int = 1) -> tuple:
    item = pb.EnergyItem(timestamp=day, watth_type=energy_type, watth=watth)
    return (254, 32, pb.EnergyTotalReport(watth_seq=seq, watth_item=[item]))


def energy_statistics(samples: dict) -> dict:
    return {k: v for k, v in samples.items() if k[0].startswith("powerocean_energy_")}


def today(samples: dict, energy_type: str) -> float:
    return samples[("powerocean_energy_today_joules", (("energy_type", energy_type),))]


def hours(samples: dict, energy_type: str) -> dict[int, float]:
    return {
        int(dict(labels)["hour"]): value
        for (name, labels), value in samples.items()
        if name == "powerocean_energy_hourly_joules" and ("energy_type", energy_type) in labels
    }


def test_statistics_of_today_give_the_day_sum_and_each_hour_in_joules():
    system = System()
    system.send(statistics(TODAY, 1, [0, 0, 0, 0, 0, 0, 120, 1900, 2450]))
    system.send(statistics(TODAY, 64, [0, 0, 0, 0, 0, 0, 0, 300, 1210]))
    samples = system.samples()
    assert today(samples, "1") == (120 + 1900 + 2450) * 3600
    assert today(samples, "64") == (300 + 1210) * 3600
    assert hours(samples, "1") == {
        h: wh * 3600.0 for h, wh in enumerate([0] * 6 + [120, 1900, 2450])
    }
    day_start = ("powerocean_energy_statistics_day_timestamp_seconds", (("energy_type", "1"),))
    assert samples[day_start] == TODAY


def test_an_older_day_from_the_weeks_backlog_changes_nothing_today_shows():
    system = System()
    system.send(statistics(TODAY, 1, [0] * 7 + [1900, 2450], seq=94))
    before = energy_statistics(system.samples())
    system.send(statistics(TODAY - DAY, 1, [500] * 24, seq=95))  # yesterday, pushed after today
    system.send(statistics(TODAY - 3 * DAY, 1, [700] * 24, seq=96))
    assert energy_statistics(system.samples()) == before
    assert today(before, "1") == (1900 + 2450) * 3600


def test_a_new_device_day_restarts_todays_series():
    system = System()
    system.send(statistics(TODAY, 1, [100] * 24))
    system.send(statistics(TODAY + DAY, 1, [40, 75]))  # the device's calendar moved on
    samples = system.samples()
    assert today(samples, "1") == 115 * 3600
    assert hours(samples, "1") == {0: 40 * 3600.0, 1: 75 * 3600.0}


@pytest.mark.parametrize(
    ("start", "end", "joules"),
    [
        (100.0, 300.0, 2000.0),  # both above zero: the trapezoid
        (-100.0, -300.0, 0.0),  # both below: nothing
        (100.0, -100.0, 250.0),  # crosses zero halfway: the triangle above it
        (-300.0, 100.0, 125.0),  # crosses at three quarters
        (0.0, 0.0, 0.0),
    ],
)
def test_the_area_above_zero_of_a_linear_stretch(start, end, joules):
    assert positive_area(start, end, 10.0) == pytest.approx(joules)


def integrated(samples: dict) -> dict[str, float]:
    return {
        dict(labels)["flow"]: value
        for (name, labels), value in samples.items()
        if name == "powerocean_integrated_energy_joules_total"
    }


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (PowerOceanModel(packs=["J327TESTPACK1"], epoch=TODAY), "JTS1_ENERGY_STREAM_REPORT"),
        (Ocean2Model(epoch=TODAY), "OCEAN2_TELEMETRY"),
    ],
)
def test_integrated_counters_match_the_simulated_power_curve_over_a_day(model, message):
    """The simulator's power curve, reported every 10 s for a day (an Ocean 2 sends only
    the powers that changed): each counter within 1 % of the integral of the curve, taken
    here second by second."""
    system = System()
    expected = dict.fromkeys(("solar", "grid_import", "grid_export", "house"), 0.0)
    expected |= {"battery_charge": 0.0, "battery_discharge": 0.0}
    for second in range(TODAY, TODAY + DAY):
        flows = model.flows(second + 0.5)
        expected["solar"] += flows["solar"]
        expected["house"] += flows["load"]
        expected["grid_import"] += max(flows["grid"], 0)
        expected["grid_export"] += max(-flows["grid"], 0)
        expected["battery_charge"] += max(flows["battery"], 0)
        expected["battery_discharge"] += max(-flows["battery"], 0)
    stream_a_day(system, model, message)
    counters = integrated(system.samples())
    assert set(counters) == set(expected)
    for flow, joules in expected.items():
        assert counters[flow] == pytest.approx(joules, rel=0.01), flow


def stream_a_day(
    system: System, model: PowerOceanModel, message: str = "JTS1_ENERGY_STREAM_REPORT"
) -> None:
    """The model's ``message`` (its power flows) of the day that starts at TODAY, a report
    every 10 s."""
    command = load_powerocean_mapping().routes[message].command
    for tick, at in enumerate(range(TODAY, TODAY + DAY + 1, 10)):
        system.now = float(at)
        system.send((*command, model.update(at, tick)[message]))


def test_the_simulators_statistics_agree_with_the_integrated_counters():
    """A simulated day: the statistics the simulator pushes for it (254/32) against what the
    exporter integrated from its energy stream, within 1 % and the rounding of each hour to
    whole Wh. Which flow a type counts is the simulator's choice."""
    system = System()
    model = PowerOceanModel(packs=["J327TESTPACK1"], epoch=TODAY)
    stream_a_day(system, model)
    for energy_type in model.energy_types:
        item = model.energy_item(energy_type, TODAY, until=TODAY + DAY)
        system.send(statistics(TODAY, energy_type, list(item.watth)))
    samples = system.samples()
    counters = integrated(samples)
    for energy_type, flow in ((1, "solar"), (64, "grid_export"), (128, "grid_export")):
        expected = pytest.approx(counters[flow], rel=0.01, abs=24 * 0.5 * 3600)
        assert today(samples, str(energy_type)) == expected, energy_type
    assert counters["grid_export"] > 0


def test_a_gap_longer_than_the_limit_is_not_bridged():
    system = System()
    for at in (0, 10, 20, 200, 210):  # 180 s of silence between 20 and 200
        system.now = TODAY + at
        system.send((96, 33, pb.JTS1_ENERGY_STREAM_REPORT(mpptPwr=1000.0, sysLoadPwr=400.0)))
    counters = integrated(system.samples())
    assert counters["solar"] == 30 * 1000.0  # 0-20 and 200-210, not 20-200
    assert counters["house"] == 30 * 400.0
    assert counters["grid_export"] == 0.0  # left out of a complete report: 0 W


def test_the_open_api_mode_integrates_only_the_powers_a_quota_message_carries():
    """quota/all and the quota stream both bring the house power: a stream message without
    it says nothing about it, though the stream sent an older value before."""
    clock = [float(TODAY)]
    ingest = QuotaIngest(
        load_powerocean_mapping(), MessageCache(), {SERIAL}, stale_after=300, clock=lambda: clock[0]
    )

    def stream(**param: float) -> None:
        message = {"cmdFunc": 96, "cmdId": 33, "param": param}
        ingest.stream(f"/open/account/{SERIAL}/quota", json.dumps(message).encode())

    stream(sysLoadPwr=1000.0)
    clock[0] += 10
    ingest.quota_all(SERIAL, {"sysLoadPwr": 2000.0})
    clock[0] += 10
    stream(bpSoc=50)
    assert ingest.energy()[SERIAL].fields[("house",)] == (1000.0 + 2000.0) / 2 * 10

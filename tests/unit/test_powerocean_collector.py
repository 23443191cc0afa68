"""The PowerOcean collector keeps what did not change between scrapes: the families it
gives are always those a collector with nothing kept gives for the same cache."""

from __future__ import annotations

from prometheus_client.core import Metric

from exporter.exposition import Exposition, negotiate
from exporter.metrics import SeriesFamily
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.schema import load_powerocean_mapping
from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher
from tests.support.scrape import PROMETHEUS_ACCEPT

STALE_AFTER = 60.0
SERIALS = ("R371TEST0001", "R371TEST0002")


class Fleet:
    """Simulated systems feeding one cache, and a clock the tests move."""

    def __init__(self, packs: int = 3) -> None:
        self.now = 1000.0
        self.mapping = load_powerocean_mapping()
        self.cache = MessageCache()
        self.devices = Devices({serial: serial for serial in SERIALS})
        self.ingest = Ingest(
            self.mapping, self.cache, self.devices, stale_after=STALE_AFTER, clock=self.clock
        )
        self.systems = {}
        for serial in SERIALS:
            model = PowerOceanModel(packs=[f"{serial}-P{i}" for i in range(packs)], epoch=0)
            publisher = PowerOceanPublisher("mqtt://127.0.0.1:1", serial, model=model)
            self.systems[serial] = (model, publisher)
            self.send(serial, model.messages(self.now))

    def clock(self) -> float:
        return self.now

    def send(self, serial: str, messages: dict) -> None:
        _, publisher = self.systems[serial]
        self.ingest(f"/app/device/property/{serial}", publisher.payload(messages))

    def tick(self, tick: int, serials: tuple[str, ...] = SERIALS) -> None:
        """``serials`` send their ``tick``-th mid-session update, 2 s after the last."""
        self.now += 2.0
        for serial in serials:
            model, _ = self.systems[serial]
            self.send(serial, model.update(self.now, tick))

    def collector(self) -> PowerOceanCollector:
        return PowerOceanCollector(
            self.mapping,
            self.cache,
            self.ingest,
            None,
            devices=self.devices,
            stale_after=STALE_AFTER,
            clock=self.clock,
        )


def exposed(families: list[Metric]) -> str:
    return Exposition().write(families, negotiate(PROMETHEUS_ACCEPT)).decode()


def of_parts(families: list[Metric]) -> dict[str, SeriesFamily]:
    return {f.name: f for f in families if isinstance(f, SeriesFamily) and f.chunks}


def test_every_scrape_equals_one_of_a_collector_that_keeps_nothing():
    fleet = Fleet()
    kept = fleet.collector()
    writer = Exposition()
    for tick in range(1, 13):
        fleet.tick(tick, SERIALS if tick % 4 else SERIALS[:1])
        ours = writer.write(list(kept.collect()), negotiate(PROMETHEUS_ACCEPT)).decode()
        assert ours == exposed(list(fleet.collector().collect())), f"tick {tick}"


def test_new_reports_show_at_the_next_scrape_and_silent_systems_go_away():
    fleet = Fleet()
    kept = fleet.collector()
    before = exposed(list(kept.collect()))
    fleet.tick(3)  # energy stream, heartbeat and one pack of each system
    after = exposed(list(kept.collect()))
    assert after != before
    assert after == exposed(list(fleet.collector().collect()))
    fleet.now += STALE_AFTER + 1
    fleet.tick(1, SERIALS[:1])  # only the first system still talks
    silent = exposed(list(kept.collect()))
    assert f'powerocean_up{{serial="{SERIALS[1]}"}} 0.0' in silent
    assert f'serial="{SERIALS[1]}",pack=' not in silent
    assert silent == exposed(list(fleet.collector().collect()))


def test_families_of_reports_that_did_not_change_are_the_same_objects():
    fleet = Fleet()
    kept = fleet.collector()
    first = of_parts(list(kept.collect()))
    fleet.tick(1)  # the energy stream alone
    second = of_parts(list(kept.collect()))
    assert first.keys() == second.keys()
    changed = {name for name in first if first[name] is not second[name]}
    assert "powerocean_grid_power_watts" in changed
    assert "powerocean_battery_pack_voltage_volts" not in changed
    assert "powerocean_battery_pack_voltage_volts" in first
    assert len(changed) < len(first) / 4

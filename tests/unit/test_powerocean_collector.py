"""The PowerOcean collector shows what the cache holds at the time of each scrape."""

from __future__ import annotations

from exporter.exposition import AnyFamily, negotiate, write
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.quota import QUOTA_STREAM, QuotaIngest
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


def exposed(families: list[AnyFamily]) -> str:
    return write(families, negotiate(PROMETHEUS_ACCEPT)).decode()


def test_new_reports_show_at_the_next_scrape_and_silent_systems_go_away():
    fleet = Fleet()
    collector = fleet.collector()
    before = exposed(list(collector.collect()))
    fleet.tick(3)  # energy stream, heartbeat and one pack of each system
    after = exposed(list(collector.collect()))
    assert after != before
    assert after == exposed(list(collector.collect()))  # nothing new: the same answer
    fleet.now += STALE_AFTER + 1
    fleet.tick(1, SERIALS[:1])  # only the first system still talks
    silent = exposed(list(collector.collect()))
    assert f'powerocean_up{{serial="{SERIALS[1]}"}} 0.0' in silent
    assert f'powerocean_up{{serial="{SERIALS[0]}"}} 1.0' in silent
    assert f'serial="{SERIALS[1]}",pack=' not in silent
    assert f'powerocean_grid_power_watts{{serial="{SERIALS[0]}"}}' in silent
    assert f'powerocean_grid_power_watts{{serial="{SERIALS[1]}"}}' not in silent


def test_a_topic_naming_a_system_not_configured_is_dropped():
    fleet = Fleet()
    model, publisher = fleet.systems[SERIALS[0]]
    fleet.ingest("/app/device/property/R371NOTOURS0001", publisher.payload(model.messages(1.0)))
    dropped, _ = fleet.ingest.counts()
    assert dropped["foreign_serial"] == 7  # every frame of the get-all
    assert "R371NOTOURS0001" not in exposed(list(fleet.collector().collect()))


def test_a_field_of_several_messages_comes_from_the_newest_report_that_holds_it():
    """96/8, 96/16 and 96/17 share a schema: each channel from the newest that sent it."""
    fleet = Fleet()
    collector = fleet.collector()
    serial = SERIALS[0]
    limit, ratio = "powerocean_feed_in_power_limit_watts", "powerocean_feed_in_limit_ratio"

    def send(message: str, **fields: int) -> dict[str, str]:
        fleet.now += 1.0
        fleet.tick(1)  # keeps both systems up
        fleet.send(serial, {message: pb.JTS1_EMS_CHANGE_REPORT(**fields)})
        lines = exposed(list(collector.collect())).splitlines()
        return {
            name: line.rpartition(" ")[2]
            for line in lines
            for name in (limit, ratio)
            if line.startswith(f'{name}{{serial="{serial}"}}')
        }

    assert send("JTS1_EMS_CHANGE_REPORT", emsFeedPwr=3000, emsFeedRatio=50) == {
        limit: "3000.0",
        ratio: "0.5",
    }
    assert send("JTS1_EMS_STATE_CHANGE_REPORT", emsFeedPwr=2000) == {limit: "2000.0", ratio: "0.5"}
    assert send("JTS1_EMS_SAFETY_PARAM_REPORT", emsFeedRatio=70) == {limit: "2000.0", ratio: "0.7"}
    # 96/8's kept report still holds the ratio it sent first, and is now the newest.
    assert send("JTS1_EMS_CHANGE_REPORT", emsFeedPwr=1000) == {limit: "1000.0", ratio: "0.5"}


def test_quota_maps_naming_a_system_not_configured_are_dropped():
    """The exporter subscribes to the quota topics of its systems only; should the broker
    deliver another's, or quota/all answer for one, it is counted and kept out."""
    fleet = Fleet()
    quota = QuotaIngest(fleet.mapping, fleet.cache, fleet.devices, stale_after=STALE_AFTER)
    stream = b'{"cmdFunc": 96, "cmdId": 33, "param": {"sysLoadPwr": 500}}'
    quota.stream("/open/open-42/R371NOTOURS0001/quota", stream)
    quota.quota_all("R371NOTOURS0001", {"sysLoadPwr": 500})
    quota.stream(f"/open/open-42/{SERIALS[0]}/quota", stream)
    dropped, received = quota.counts()
    assert dropped["foreign_serial"] == 2
    assert received == {(SERIALS[0], QUOTA_STREAM): 1}
    assert "R371NOTOURS0001" not in fleet.cache.snapshot()

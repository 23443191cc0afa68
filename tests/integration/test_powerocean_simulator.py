"""The PowerOcean simulator as the exporter sees it through Mosquitto: its energy
statistics (254/32), pushed the way the device pushes them, and none from an Ocean 2."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pytest

from exporter.configfile import Config
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.simulate.powerocean import Ocean2Model, PowerOceanModel, PowerOceanPublisher
from tests.support.exporters import start_exporter
from tests.support.mosquitto import Message, Mosquitto, Subscriber
from tests.support.polling import until
from tests.support.scrape import scrape_until

SERIAL = "J327SIMULATED001"
HOUR, DAY = 3600, 86400
#: Each hour of the statistics is whole Wh: half a Wh either way, in J.
ROUNDING = 0.5 * 3600


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mosquitto:
        yield mosquitto


def pushed_statistics(messages: list[Message]) -> list[pb.EnergyTotalReport]:
    """The 254/32 reports among the device's pushes, in the order they came."""
    return [
        pb.EnergyTotalReport.FromString(header.pdata)
        for _, payload in messages
        for header in pb.HeaderMessage.FromString(payload).header
        if (header.cmd_func, header.cmd_id) == (254, 32)
    ]


def curve_joules(power: Callable[[float], float], start: float, end: float) -> float:
    """The energy of ``power`` over the whole seconds from ``start`` to ``end``, a second
    at a time: rounded down at the start and up at the end, so never less than the
    stretch holds while the power is not negative."""
    return sum(power(second + 0.5) for second in range(math.floor(start), math.ceil(end)))


def test_the_simulators_statistics_reach_the_exporter_and_follow_its_power_curve(broker):
    """Today's items first, then the older days of the week, one push each; the exporter
    shows today's, and each hour holds what the curve gives between the hour's start and
    the push (which came between the start of the test and the last scrape)."""
    config = Config(
        powerocean=PowerOceanConfig(devices={SERIAL: "sim"}, broker=BrokerConfig(url=broker.url))
    )
    exporter = start_exporter(config)
    model = PowerOceanModel()
    publisher = PowerOceanPublisher(broker.url, SERIAL, model=model)
    try:
        scrape_until(exporter.port, lambda r: r.values("powerocean_mqtt_connected") == [1])
        with Subscriber(broker, [f"/app/device/property/{SERIAL}"]) as device:
            started = time.time()
            publisher.start()
            assert device.wait_for(lambda m: len(pushed_statistics(m)) >= 5, timeout=30)
            pushes = pushed_statistics(device.inbox.items)
        received = "powerocean_messages_received_total"
        r = scrape_until(
            exporter.port, lambda r: sum(r.values(received, message="ENERGY_TOTAL_REPORT")) >= 5
        )
        scraped = time.time()
    finally:
        publisher.stop()
        exporter.stop()

    day = pushes[0].watth_item[0].timestamp
    assert day in {int(started) // DAY * DAY, int(scraped) // DAY * DAY}
    sent = [(p.watth_seq, [(i.timestamp, i.watth_type) for i in p.watth_item]) for p in pushes]
    assert sent[:5] == [
        (1, [(day, 1)]),
        (2, [(day, 64)]),
        (3, [(day, 128)]),
        (4, [(day - DAY, 1)]),  # the week's older days after today
        (5, [(day - DAY, 64)]),
    ]
    assert r.value("powerocean_energy_statistics_day_timestamp_seconds", energy_type="1") == day
    flows_of = {1: "solar", 64: "grid_export", 128: "grid_export"}  # the simulator's choice
    power = {
        "solar": lambda at: model.flows(at)["solar"],
        "grid_export": lambda at: max(0.0, -model.flows(at)["grid"]),
    }
    for energy_type, flow in flows_of.items():
        hours = {
            int(s.labels["hour"]): s.value
            for s in r.samples
            if s.name == "powerocean_energy_hourly_joules"
            and s.labels["energy_type"] == str(energy_type)
        }
        assert sorted(hours) == list(range(24))
        for hour, joules in hours.items():
            start = day + hour * HOUR
            least = curve_joules(power[flow], start, min(start + HOUR, started))
            most = least + curve_joules(
                power[flow], max(start, started), min(start + HOUR, scraped)
            )
            assert least * 0.99 - ROUNDING <= joules <= most * 1.01 + ROUNDING, (flow, hour)
        today = r.value("powerocean_energy_today_joules", energy_type=str(energy_type))
        assert today == sum(hours.values())
    assert r.value("powerocean_energy_today_joules", energy_type="1") > 0


def test_the_simulated_ocean2_pushes_no_statistics(broker):
    """No source has seen an Ocean 2 send 254/32: while a simulated PowerOcean next to it
    pushes its week of statistics, the Ocean 2 pushes its telemetry and modules only."""
    ocean2 = "RE11SIMULATED001"
    publishers = [
        PowerOceanPublisher(broker.url, SERIAL, model=PowerOceanModel()),
        PowerOceanPublisher(broker.url, ocean2, interval=0.2, model=Ocean2Model(ocean2)),
    ]
    topics = {serial: f"/app/device/property/{serial}" for serial in (SERIAL, ocean2)}
    with Subscriber(broker, topics.values()) as device:
        for publisher in publishers:
            publisher.start()
        try:
            assert device.wait_for(
                lambda m: len(pushed_statistics([x for x in m if x[0] == topics[SERIAL]])) >= 3,
                timeout=30,
            )
        finally:
            for publisher in publishers:
                publisher.stop()
    pushed = [(topic, payload) for topic, payload in device.inbox.items if topic == topics[ocean2]]
    commands = {
        (header.cmd_func, header.cmd_id)
        for _, payload in pushed
        for header in pb.HeaderMessage.FromString(payload).header
    }
    assert len(pushed) >= 5 and commands == {(254, 39), (254, 46)}


def test_the_answer_to_the_get_all_comes_on_get_reply_and_json_answers_are_not_errors(broker):
    """The cloud answers a data request on its topic + "_reply": the get-all with the whole
    state (settings and the inventory, which the device otherwise sends only on change),
    latestQuotas with JSON the exporter does not read."""
    config = Config(
        powerocean=PowerOceanConfig(
            devices={SERIAL: "sim"},
            broker=BrokerConfig(url=broker.url),
            latest_quotas_seconds=0.5,
        )
    )
    publisher = PowerOceanPublisher(broker.url, SERIAL, model=PowerOceanModel(), interval=3600)
    reply = f"/app/exporter/{SERIAL}/thing/property/get_reply"
    publisher.start()
    exporter = None
    try:
        assert until(lambda: publisher.connected)
        with Subscriber(broker, [reply, f"/app/device/property/{SERIAL}"]) as cloud:
            exporter = start_exporter(config)
            assert cloud.wait_for(lambda _: len(cloud.inbox.on(reply)) >= 3, timeout=30)
            r = scrape_until(exporter.port, lambda r: r.has("powerocean_module_info"))
            replies = cloud.inbox.on(reply)
            pushed = cloud.inbox.on(f"/app/device/property/{SERIAL}")
    finally:
        publisher.stop()
        if exporter is not None:
            exporter.stop()
    assert sum(not p.startswith(b"{") for p in replies) == 1  # the get-all, answered once
    assert sum(p.startswith(b"{") for p in replies) >= 2  # latestQuotas, answered in JSON
    assert all(pb.HeaderMessage.FromString(p).header[0].cmd_func != 53 for p in pushed)
    received = "powerocean_messages_received_total"
    assert r.value(received, serial=SERIAL, message="MODULE_CLUSTER_INFO") == 1
    assert r.value(received, serial=SERIAL, message="JTS1_EMS_CHANGE_REPORT") == 1
    assert r.has("powerocean_ems_work_mode", serial=SERIAL)
    assert sum(r.values("powerocean_decode_errors_total")) == 0

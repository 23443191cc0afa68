"""PowerOcean end to end: frames built with the project's schema -> real Mosquitto ->
the exporter's MQTT client -> cache -> HTTP scrape parsed with prometheus_client."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message

from exporter.config import BrokerConfig, Config, PowerOceanConfig
from exporter.mapping import Kind
from exporter.metrics import scaled
from exporter.powerocean.device import PowerOceanChannel, load_powerocean_mapping
from exporter.powerocean.frames import build_payload
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.simulate.powerocean import PowerOceanModel
from tests.conftest import start_exporter
from tests.mosquitto import Mosquitto, Subscriber
from tests.scrape import Scrape, scrape

MAPPING = load_powerocean_mapping()
COMMANDS = {route.name: key for key, route in MAPPING.routes.items()}
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "powerocean-states.md"
CAPTURE = SEED.parents[1] / "fixtures" / "powerocean" / "r374_get_all_masked.bin"
SERIAL = "R371ZD1AZH000001"
PACKS = ("HJ31PACK0000001", "HJ31PACK0000002")


def topic(serial: str = SERIAL) -> str:
    return f"/app/device/property/{serial}"


def set_path(message: Message, path: tuple[str | int, ...], value: Any) -> None:
    """Put ``value`` at a mapping path, creating list entries on the way."""
    node: Any = message
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            continue
        child = getattr(node, step)
        if isinstance(following, int):
            while len(child) <= following:
                child.add()
            node = child[following]
        else:
            node = child
    leaf = getattr(node, str(path[-1]))
    if isinstance(value, list):
        leaf.extend(value)
    elif isinstance(leaf, bytes):
        setattr(node, str(path[-1]), value.encode())
    else:
        setattr(node, str(path[-1]), value)


def distinct_value(channel: PowerOceanChannel, seed: int) -> Any:
    """A value for the channel that no other channel has, exact in a float32."""
    if channel.kind is Kind.ENUM:
        return sorted(channel.states)[-1]
    if channel.kind is Kind.INFO:
        return f"text-{seed}" if channel.info_label == "pack_serial" else seed
    if channel.kind is Kind.ARRAY:
        return [seed + 0.5, seed + 1.25, seed + 2.0]
    return seed + 0.5 if channel.metric.endswith(("_watts", "_volts", "_celsius")) else seed + 7


def filled_messages(offset: int) -> tuple[dict[str, Message], dict[PowerOceanChannel, Any]]:
    """Every message with a distinct value in every mapped field; and what was put where."""
    messages: dict[str, Message] = {}
    values: dict[PowerOceanChannel, Any] = {}
    for route in MAPPING.routes.values():
        message = route.message_type()
        target = getattr(message, route.packs).add() if route.packs else message
        for index, channel in enumerate(MAPPING.channels_of(route.name)):
            value = distinct_value(channel, offset + index * 10)
            if channel.info_label == "pack_serial":
                value = PACKS[0] if offset < 1000 else PACKS[1]
            set_path(target, channel.address.path, value)
            values[channel] = value
        messages[route.name] = message
    return messages, values


def payload(messages: dict[str, Message], serial: str = SERIAL, **kwargs: Any) -> bytes:
    return build_payload(serial, [(*COMMANDS[name], m) for name, m in messages.items()], **kwargs)


def assert_exported(result: Scrape, channel: PowerOceanChannel, value: Any, **labels: str) -> None:
    labels = {**labels, **dict(channel.labels)}
    name = channel.metric
    if channel.kind in (Kind.GAUGE, Kind.COUNTER):
        assert math.isclose(
            result.value(name, **labels), scaled(value, channel.scale), rel_tol=1e-6
        ), channel.source
    elif channel.kind is Kind.ENUM:
        for raw, state in channel.states.items():
            assert result.value(name, state=state, **labels) == float(raw == value), channel.source
    elif channel.kind is Kind.ARRAY:
        for index, item in enumerate(value, start=1):
            got = result.value(name, **{channel.index_label: str(index)}, **labels)
            assert math.isclose(got, scaled(item, channel.scale), rel_tol=1e-6), channel.source
    elif channel.kind is Kind.INFO:
        assert result.value(name, **{channel.info_label: str(value)}, **labels) == 1, channel.source


def powerocean_config(broker: Mosquitto, **options: Any) -> Config:
    return Config(
        powerocean=PowerOceanConfig(
            devices=(SERIAL,),
            broker=BrokerConfig(url=broker.url, ca_file=broker.ca_file),
            **options,
        )
    )


def wait_scrape(exporter, predicate, timeout: float = 10.0) -> Scrape:
    deadline = time.monotonic() + timeout
    while True:
        result = scrape(f"http://127.0.0.1:{exporter.port}/metrics")
        if predicate(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mosquitto:
        yield mosquitto


@pytest.fixture
def tls_broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto-tls", tls=True) as mosquitto:
        yield mosquitto


@pytest.fixture
def exporter_on(request):
    started = []

    def start(config: Config):
        exporter = start_exporter(config)
        started.append(exporter)
        wait_scrape(
            exporter,
            lambda r: (
                r.has("powerocean_mqtt_connected") and r.value("powerocean_mqtt_connected") == 1
            ),
        )
        return exporter

    yield start
    for exporter in started:
        exporter.stop()


def connected(result: Scrape) -> bool:
    return result.value("powerocean_mqtt_connected") == 1


def test_every_seed_state_is_exported_with_its_value_and_labels(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    messages, values = filled_messages(offset=100)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        result = wait_scrape(exporter, lambda r: r.has("powerocean_battery_pack_info"))
    assert result.value("powerocean_up", serial=SERIAL) == 1
    for channel, value in values.items():
        labels = {"serial": SERIAL}
        if channel.address.message == "JTS1_BP_STA_REPORT":
            labels["pack"] = PACKS[0]
        assert_exported(result, channel, value, **labels)
    now = pytest.approx(time.time(), abs=30)
    for name in COMMANDS.keys() - {"JTS1_BP_STA_REPORT"}:
        assert result.value("powerocean_last_message_timestamp_seconds", message=name) == now
    assert (
        result.value("powerocean_battery_pack_last_message_timestamp_seconds", pack=PACKS[0]) == now
    )


def test_the_mapping_covers_every_seed_state():
    if not SEED.is_file():
        pytest.skip("seed list not beside the project")
    group, states = "", set()
    for line in SEED.read_text().splitlines():
        if line.startswith("## "):
            group = line[3:].strip().rstrip("1")
        elif line.startswith("|") and not line.startswith(("|--", "| State")):
            states.add(f"{group}.{line.split('|')[1].strip()}")
    assert states <= {channel.source for channel in MAPPING.channels}
    assert len(states) == 99


def test_two_packs_are_kept_apart(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    first, first_values = filled_messages(offset=100)
    second, second_values = filled_messages(offset=5000)
    with Subscriber(broker) as device:
        # Mid-session messages carry one pack each: the second must not erase the first.
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": first["JTS1_BP_STA_REPORT"]}))
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": second["JTS1_BP_STA_REPORT"]}))
        result = wait_scrape(
            exporter, lambda r: len(r.values("powerocean_battery_pack_power_watts")) == 2
        )
    soc = "powerocean_battery_pack_state_of_charge_ratio"
    for pack, values in ((PACKS[0], first_values), (PACKS[1], second_values)):
        for channel, value in values.items():
            if channel.address.message == "JTS1_BP_STA_REPORT":
                assert_exported(result, channel, value, serial=SERIAL, pack=pack)
    assert result.value(soc, pack=PACKS[0]) != result.value(soc, pack=PACKS[1])


def test_a_silent_system_goes_stale_and_its_series_disappear(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker, stale_after_seconds=1.5))
    messages, _ = filled_messages(offset=100)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        fresh = wait_scrape(exporter, lambda r: r.has("powerocean_grid_power_watts"))
        assert fresh.value("powerocean_up", serial=SERIAL) == 1
        stale = wait_scrape(exporter, lambda r: r.value("powerocean_up", serial=SERIAL) == 0)
    assert not stale.has("powerocean_grid_power_watts")
    assert not stale.has("powerocean_battery_pack_power_watts")
    assert stale.has("powerocean_last_message_timestamp_seconds", serial=SERIAL)


def test_values_flow_again_after_the_broker_restarts(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(model.messages(100.0)))
        wait_scrape(exporter, lambda r: r.has("powerocean_load_power_watts"))
    broker.restart()
    assert connected(wait_scrape(exporter, connected, timeout=30))
    messages = model.messages(200.0)
    messages["JTS1_ENERGY_STREAM_REPORT"].sysLoadPwr = 1234.5
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        result = wait_scrape(
            exporter, lambda r: r.values("powerocean_load_power_watts") == [1234.5]
        )
    assert result.value("powerocean_load_power_watts", serial=SERIAL) == 1234.5
    assert result.value("powerocean_mqtt_connects_total") >= 2


def test_garbage_is_counted_and_good_frames_still_arrive(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    good, good_values = filled_messages(offset=100)
    good_payload = payload(good)
    unknown = build_payload(SERIAL, [(254, 17, pb.JTS1_EMS_CHANGE_REPORT())])
    with Subscriber(broker) as device:
        device.publish(topic(), json.dumps({"params": {"bpSoc": 50}}).encode())
        device.publish(topic(), bytes(range(256)) * 4)
        device.publish(topic(), good_payload[: len(good_payload) // 2])
        device.publish(topic(), b"\x0a" * 10_000_000)
        device.publish(topic(), unknown)
        device.publish(topic(), payload(good, xor_seq=0x1234567))
        result = wait_scrape(
            exporter,
            lambda r: (
                r.has("powerocean_grid_power_watts")
                and r.value("powerocean_decode_errors_total", reason="too_large") == 1
            ),
        )
    errors = {
        s.labels["reason"]: s.value
        for s in result.samples
        if s.name == "powerocean_decode_errors_total"
    }
    assert errors["too_large"] == 1
    assert errors["unknown_command"] == 1
    assert errors["not_protobuf"] + errors["truncated"] + errors["bad_message"] >= 3
    assert result.value("powerocean_up", serial=SERIAL) == 1
    grid = next(v for c, v in good_values.items() if c.metric == "powerocean_grid_power_watts")
    assert result.value("powerocean_grid_power_watts", serial=SERIAL) == grid


def test_tls_broker_with_the_test_ca(tls_broker, exporter_on):
    exporter = exporter_on(powerocean_config(tls_broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(tls_broker) as device:
        device.publish(topic(), payload(model.messages(1000.0)))
        result = wait_scrape(exporter, lambda r: r.has("powerocean_battery_pack_power_watts"))
    flows = model.flows(1000.0)
    assert result.value("powerocean_grid_power_watts") == pytest.approx(flows["grid"], rel=1e-5)
    assert sorted(
        s.labels["pack"] for s in result.samples if s.name == "powerocean_battery_pack_power_watts"
    ) == sorted(PACKS)


def test_the_simulated_energy_balance_holds(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(model.messages(900.0)))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_load_power_watts"))
    load = r.value("powerocean_load_power_watts")
    balance = (
        r.value("powerocean_grid_power_watts")
        + r.value("powerocean_solar_power_watts")
        - r.value("powerocean_battery_power_watts")
    )
    assert load == pytest.approx(balance, abs=0.01)
    assert r.value("powerocean_solar_power_watts") > 0


def test_promtool_accepts_a_full_scrape(broker, exporter_on):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed"
    exporter = exporter_on(powerocean_config(broker))
    with Subscriber(broker) as device:
        device.publish(topic(), payload(PowerOceanModel(packs=PACKS).messages(time.time())))
        result = wait_scrape(
            exporter, lambda r: r.has("powerocean_battery_pack_cell_voltage_volts")
        )
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=result.text, capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


def test_decode_prints_a_payload_as_json(tmp_path):
    model = PowerOceanModel(packs=PACKS, epoch=0)
    file = tmp_path / "payload.bin"
    file.write_bytes(payload(model.messages(900.0)))
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(file)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    frames = json.loads(run.stdout)["frames"]
    names = [frame["message"] for frame in frames]
    assert sorted(names) == sorted(COMMANDS)
    stream = frames[names.index("JTS1_ENERGY_STREAM_REPORT")]
    assert stream["serial"] == SERIAL
    assert stream["decoded"]["sysLoadPwr"] == pytest.approx(model.flows(900.0)["load"], rel=1e-5)

    garbage = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", "-"], input=b"{}", capture_output=True
    )
    assert garbage.returncode == 1 and b"cannot decode" in garbage.stderr


def test_decode_reads_the_real_capture():
    if not CAPTURE.is_file():
        pytest.skip("the captured payload is not beside the project")
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(CAPTURE), "--topic", topic("R374X")],
        capture_output=True,
        text=True,
    )
    frames = json.loads(run.stdout)["frames"]
    assert len(frames) == 19
    decoded = {f["message"]: f["decoded"] for f in frames if f["message"]}
    stream = decoded["JTS1_ENERGY_STREAM_REPORT"]
    assert (stream["sysLoadPwr"], stream["sysGridPwr"], stream["mpptPwr"]) == (390, -3770, 4160)
    phase = decoded["JTS1_EMS_HEARTBEAT"]["pcsAPhase"]
    assert phase["volt"] == pytest.approx(237.35, abs=0.01)
    assert phase["amp"] == pytest.approx(5.194, abs=0.001)
    assert phase["actPwr"] == pytest.approx(-1221.4, abs=0.1)
    assert phase["reactPwr"] == pytest.approx(166.4, abs=0.1)
    assert phase["apparentPwr"] == pytest.approx(1232.7, abs=0.1)
    assert len(decoded["JTS1_EMS_HEARTBEAT"]["mpptHeartBeat"][0]["mpptPv"]) == 3

"""Open API mode end to end: a local HTTPS API that checks every signature, a real Mosquitto
carrying the Open API's JSON quota messages, the exporter, real HTTP scrapes."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.config import Secret
from exporter.configfile import Config
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.config import BrokerConfig, OpenApiConfig, PowerOceanConfig
from exporter.powerocean.quota import QUOTA_ALL, QUOTA_STREAM
from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher
from tests.support.exporter_process import ExporterProcess
from tests.support.fake_open_api import FakeOpenApi, SilentServer, device, quota_all
from tests.support.mosquitto import Mosquitto, Subscriber
from tests.support.polling import until
from tests.support.scrape import Scrape, scrape, scrape_until
from tests.support.secrets import assert_no_secret

MAPPING = load_powerocean_mapping()
SERIAL = "HJ31ZD1AZH000001"
ACCESS_KEY = "AKq7Zp2Lx9Vw4Rt8Mn"
SECRET_KEY = "SKm3Nf8Qh1Jc6Yd5Tb2Wg9Ks4Lp7Xe"
ACCOUNT = "open-0000000000000042"
MQTT_PASSWORD = "open-mqtt-Pa55word"
PACKS = ("HJ31PACK0000001", "HJ31PACK0000002")
AT = 900.0
#: The shortest quota/all interval a test asks for, and slack on top of it for a busy machine.
POLL_SECONDS, MARGIN_SECONDS = 1.0, 3.0


@pytest.fixture
def broker(tmp_path: Path):
    with Mosquitto(tmp_path / "mosquitto", users={ACCOUNT: MQTT_PASSWORD}) as mosquitto:
        yield mosquitto


@pytest.fixture
def api(tmp_path: Path, broker: Mosquitto):
    port = int(broker.url.rsplit(":", 1)[1])
    with FakeOpenApi(
        tmp_path / "api",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        broker_port=port,
        protocol="mqtt",
        certificate_account=ACCOUNT,
        certificate_password=MQTT_PASSWORD,
        devices=[device(SERIAL, "garage")],
    ) as fake:
        yield fake


@pytest.fixture
def exporters(exporter_for):
    return exporter_for


def open_api_config(api: FakeOpenApi, *, poll: float = 3600.0, devices=None, **keys) -> Config:
    open_api = OpenApiConfig(
        access_key=keys.get("access_key", ACCESS_KEY),
        secret_key=Secret(keys.get("secret_key", SECRET_KEY)),
        api_url=keys.get("api_url", api.url),
        ca_file=api.ca_file,
        poll_seconds=poll,
    )
    return Config(
        powerocean=PowerOceanConfig(
            devices=devices if devices is not None else {}, open_api=open_api, timeout_seconds=2
        )
    )


def device_state() -> dict:
    return PowerOceanModel(packs=PACKS, epoch=0).messages(AT)


def has_packs(result: Scrape) -> bool:
    return result.has("powerocean_battery_pack_cycles_total")


QUOTA_CHANNELS = [c for c in MAPPING.channels if c.location.quota and not c.variant]


def quota_samples(result: Scrape) -> dict[tuple[str, tuple], float]:
    """Every series a channel with an Open API quota key fills, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for s in result.samples
        for channel in QUOTA_CHANNELS
        if s.name == channel.metric and dict(channel.labels).items() <= s.labels.items()
    }


def protobuf_samples(broker: Mosquitto, exporters) -> dict[tuple[str, tuple], float]:
    """The same device state through the app protocol, for comparison."""
    config = Config(
        powerocean=PowerOceanConfig(
            devices={SERIAL: "garage"},
            broker=BrokerConfig(url=broker.url, username=ACCOUNT, password=Secret(MQTT_PASSWORD)),
            keepalive_seconds=0,
            request_all_on_connect=False,
        )
    )
    exporter = exporters(config)
    scrape_until(exporter.port, lambda r: r.value("powerocean_mqtt_connected") == 1)
    with connected_publisher(broker) as publisher:
        publisher.publish(device_state())
        result = scrape_until(
            exporter.port, lambda r: r.has("powerocean_battery_pack_cycles_total")
        )
    return quota_samples(result)


@contextlib.contextmanager
def connected_publisher(broker: Mosquitto, **options) -> Iterator[PowerOceanPublisher]:
    """The simulator, connected to ``broker`` as the Open API's account, publishing nothing
    by itself (its interval is an hour)."""
    publisher = PowerOceanPublisher(
        broker.url.replace("mqtt://", f"mqtt://{ACCOUNT}:{MQTT_PASSWORD}@"),
        SERIAL,
        interval=3600,
        model=PowerOceanModel(packs=PACKS, epoch=0),
        **options,
    )
    publisher.start()
    try:
        assert until(lambda: publisher.connected)
        yield publisher
    finally:
        publisher.stop()


def test_quota_all_gives_the_same_values_as_the_protobuf_path(broker, api, exporters):
    expected = protobuf_samples(broker, exporters)
    api.set_quota(SERIAL, quota_all(MAPPING, device_state()))
    exporter = exporters(open_api_config(api, poll=30))
    result = scrape_until(exporter.port, has_packs)
    got = quota_samples(result)
    assert got == expected
    assert len(expected) > 80
    assert result.value("powerocean_system_info", serial=SERIAL, name="garage") == 1
    assert result.has("powerocean_last_message_timestamp_seconds", message=QUOTA_ALL)
    assert not result.has("powerocean_last_message_timestamp_seconds", message=QUOTA_STREAM)


def test_the_quota_stream_gives_the_same_values_as_the_protobuf_path(broker, api, exporters):
    expected = protobuf_samples(broker, exporters)
    exporter = exporters(open_api_config(api, devices={SERIAL: "garage"}))
    scrape_until(exporter.port, lambda r: r.value("powerocean_mqtt_connected") == 1)
    with connected_publisher(broker, open_api_account=ACCOUNT) as publisher:
        publisher.publish(device_state())
        result = scrape_until(exporter.port, has_packs)
    assert quota_samples(result) == expected
    assert result.has("powerocean_last_message_timestamp_seconds", message=QUOTA_STREAM)
    # Asked once at the start, while the stream had said nothing yet; not since.
    assert api.calls["/iot-open/sign/device/quota/all"] == 1


def test_a_silent_stream_is_filled_by_quota_all_within_one_interval(api, exporters):
    quotas = quota_all(MAPPING, device_state())
    api.set_quota(SERIAL, quotas)
    exporter = exporters(open_api_config(api, poll=POLL_SECONDS))
    first = scrape_until(exporter.port, lambda r: r.has("powerocean_load_power_watts"))
    assert first.value("powerocean_up", serial=SERIAL) == 1
    api.update_quota(SERIAL, sysLoadPwr=1234.5)
    second = scrape_until(
        exporter.port,
        lambda r: r.values("powerocean_load_power_watts") == [1234.5],
        timeout=POLL_SECONDS + MARGIN_SECONDS,
    )
    assert second.value("powerocean_load_power_watts", serial=SERIAL) == 1234.5
    stamp = second.value("powerocean_last_message_timestamp_seconds", message=QUOTA_ALL)
    assert stamp == pytest.approx(time.time(), abs=5)


def test_the_open_api_mode_integrates_energy_from_the_polled_power(api, exporters):
    api.set_quota(SERIAL, quota_all(MAPPING, device_state()))
    api.update_quota(SERIAL, sysLoadPwr=1800.0, sysGridPwr=-600.0)
    exporter = exporters(open_api_config(api, poll=POLL_SECONDS))
    house = "powerocean_integrated_energy_joules_total"
    started = time.monotonic()
    result = scrape_until(exporter.port, lambda r: r.values(house, flow="house") > [1800.0 * 3])
    elapsed = time.monotonic() - started
    joules = result.value(house, serial=SERIAL, flow="house")
    assert 1800.0 * 3 < joules <= 1800.0 * elapsed  # constant power: 1800 W x the polled span
    export = result.value(house, serial=SERIAL, flow="grid_export")
    assert export == pytest.approx(joules / 3, rel=1e-6)  # 600 W, polled at the same times
    assert result.value(house, serial=SERIAL, flow="grid_import") == 0


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"secret_key": "SKv5Hb7Dq2Gt9Zr4Wc1Jx8Fn3Km6Py"}, "signature is wrong"),
        ({"access_key": "AKd4Rw9Tq1Yx6Bz3Hk"}, "wrong region or key"),
    ],
)
def test_refused_keys_give_their_message_and_powerocean_up_0(
    api, exporter_process, tmp_path, keys, message
):
    access_key, secret = keys.get("access_key", ACCESS_KEY), keys.get("secret_key", SECRET_KEY)
    process = exporter_process("--config", str(write_config(tmp_path, api, access_key, secret)))
    process.wait_for_log(message)
    result = scrape_until(process.port, lambda r: r.has("powerocean_up"))
    assert result.value("powerocean_up", serial=SERIAL) == 0
    assert_no_secrets_logged(process, access_key, secret)


def test_a_model_the_api_does_not_serve_is_named_with_the_others_and_login_mode_advised(
    api, broker, exporter_process, tmp_path
):
    api.not_served = {SERIAL}
    config = write_config(tmp_path, api, ACCESS_KEY, SECRET_KEY, poll=30)
    process = exporter_process("--config", str(config))
    line = process.wait_for_log("(1006)")
    assert "level=error" in line and f"Open API quota of {SERIAL}" in line
    assert (
        "the Open API does not serve this device (1006); it refuses PowerOcean Plus (R371, R372,"
        " R374, HJ3C), PowerOcean single-phase (J327, J32E), PowerOcean EU variant (J32D),"
        " Ocean 2 (RE11, RE17), PowerPulse (C376): use the app login mode (powerocean.login)"
        " instead"
    ) in line
    result = scrape_until(process.port, lambda r: r.value("powerocean_mqtt_connected") == 1)
    assert result.value("powerocean_up", serial=SERIAL) == 0
    assert_no_secrets_logged(process, ACCESS_KEY, SECRET_KEY)


def test_an_unreachable_api_gives_powerocean_up_0(tmp_path, exporter_process):
    with SilentServer() as silent:
        config = tmp_path / "config.yml"
        (tmp_path / "secret").write_text(SECRET_KEY)
        config.write_text(
            "powerocean:\n"
            f"  devices: [{SERIAL}]\n"
            "  timeout_seconds: 1\n"
            "  open_api:\n"
            f"    access_key: {ACCESS_KEY}\n"
            "    secret_key_file: secret\n"
            f"    api_url: {silent.url}\n"
        )
        process = exporter_process("--config", str(config))
        process.wait_for_log("Open API")  # the certification timed out
        result = scrape(f"{process.url}/metrics")
        assert result.value("powerocean_up", serial=SERIAL) == 0
        assert process.running
        assert_no_secrets_logged(process, ACCESS_KEY, SECRET_KEY)


def write_config(tmp_path: Path, api: FakeOpenApi, access_key, secret, poll: float = 3600) -> Path:
    (tmp_path / "secret").write_text(secret)
    config = tmp_path / "config.yml"
    config.write_text(
        "powerocean:\n"
        f"  devices: [{SERIAL}]\n"
        "  timeout_seconds: 2\n"
        "  open_api:\n"
        f"    access_key: {access_key}\n"
        "    secret_key_file: secret\n"
        f"    api_url: {api.url}\n"
        f"    ca_file: {api.ca_file}\n"
        f"    poll_seconds: {max(poll, 30)}\n"
    )
    return config


def assert_no_secrets_logged(process: ExporterProcess, access_key: str, secret: str) -> None:
    """Stop ``process``; its whole log names neither key."""
    process.stop()
    assert_no_secret(process.log, access_key)
    assert_no_secret(process.log, secret)


def stream_message(command: str, param: object) -> bytes:
    """A quota stream message of ``command`` ("96/33") as the Open API sends it."""
    cmd_func, cmd_id = map(int, command.split("/"))
    return json.dumps({"cmdFunc": cmd_func, "cmdId": cmd_id, "param": param}).encode()


def pack_entry(serial: str, **values: object) -> dict[str, object]:
    """An entry of the stream's pack list, its serial base64-encoded as the stream sends it."""
    return {"bpSn": base64.b64encode(serial.encode()).decode(), **values}


#: Quota messages on the topic of a configured system that cannot be used, each with the
#: reason it is dropped for.
UNUSABLE_QUOTA_MESSAGES = [
    (SERIAL, b"\xff\xfe\x00 not a text", "not_json"),
    (SERIAL, b'{"cmdFunc": 96, "cmdId": 33, "param": {"sysLoadPwr"', "not_json"),
    (SERIAL, b'[{"cmdFunc": 96, "cmdId": 33, "param": {}}]', "not_json"),
    (SERIAL, stream_message("96/33", [{"sysLoadPwr": 1.0}]), "not_json"),
    (SERIAL, stream_message("96/33", {"sysLoadPwr": "9" * 1_000_001}), "not_json"),
    (SERIAL, stream_message("1/2", {"sysLoadPwr": 1.0}), "unknown_command"),
    (SERIAL, b'{"cmdFunc": "96", "cmdId": "33", "param": {"sysLoadPwr": 1.0}}', "unknown_command"),
]


def test_unusable_quota_messages_are_counted_and_the_rest_is_served(broker, api, exporters):
    """The stream is the cloud's word, not the exporter's: a message it cannot use is
    dropped and counted by reason, a value it cannot read is left out, and what comes next
    is served as usual."""
    exporter = exporters(open_api_config(api, devices={SERIAL: "garage"}))
    scrape_until(exporter.port, lambda r: r.value("powerocean_mqtt_connected") == 1)
    quota_topic = f"/open/{ACCOUNT}/{{}}/quota"
    with Subscriber(broker, username=ACCOUNT, password=MQTT_PASSWORD) as cloud:
        for serial, payload, _ in UNUSABLE_QUOTA_MESSAGES:
            cloud.publish(quota_topic.format(serial), payload)
        readable = {
            "sysLoadPwr": "1234.5",  # numbers may come as texts
            "sysGridPwr": "-600",
            "mpptPwr": True,
            "bpPwr": "charging",  # no number: left out
            "bpSoc": [55],  # a list where a number belongs: left out
        }
        cloud.publish(quota_topic.format(SERIAL), stream_message("96/33", readable))
        states = {"pcsRunSta": "RUNSTA_RUN", "emsFeedRatio": None}
        cloud.publish(quota_topic.format(SERIAL), stream_message("96/8", states))
        packs = [
            pack_entry(PACKS[0], bpCycles=61),
            {"bpSn": PACKS[1], "bpCycles": 62},  # in plain text, as quota/all keys it
            {"bpCycles": 63},  # names no pack
            "HJ31PACK0000003",
        ]
        cloud.publish(quota_topic.format(SERIAL), stream_message("96/7", {"bpHeartBeat": packs}))
        result = scrape_until(
            exporter.port, lambda r: len(r.values("powerocean_battery_pack_cycles_total")) == 2
        )

    errors = "powerocean_decode_errors_total"
    for reason in ("not_json", "unknown_command"):
        expected = sum(1 for *_, why in UNUSABLE_QUOTA_MESSAGES if why == reason)
        assert result.value(errors, reason=reason) == expected, reason
    assert result.value(errors, reason="foreign_serial") == 0
    assert result.value(errors, reason="too_many_entries") == 0
    assert result.value("powerocean_load_power_watts", serial=SERIAL) == 1234.5
    assert result.value("powerocean_grid_power_watts", serial=SERIAL) == -600
    assert result.value("powerocean_solar_power_watts", serial=SERIAL) == 1
    assert not result.has("powerocean_battery_power_watts")
    assert not result.has("powerocean_battery_state_of_charge_ratio", report="energy_stream")
    assert not result.has("powerocean_feed_in_limit_ratio")
    run_state = {
        s.labels["state"]: s.value
        for s in result.samples
        if s.name == "powerocean_inverter_run_state"
    }
    assert run_state == {"STANDBY": 0, "RUN": 1, "STOP": 0}
    cycles = {
        s.labels["pack"]: s.value
        for s in result.samples
        if s.name == "powerocean_battery_pack_cycles_total"
    }
    assert cycles == {PACKS[0]: 61, PACKS[1]: 62}

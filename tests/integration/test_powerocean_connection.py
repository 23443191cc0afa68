"""PowerOceanConnection and the app login against a real Mosquitto and a local HTTPS API."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme

from exporter.config import Secret
from exporter.powerocean.config import BrokerConfig, LoginConfig, PowerOceanConfig
from exporter.powerocean.connection import Backoff, PowerOceanConnection
from exporter.powerocean.https import ApiError
from exporter.powerocean.login import login
from exporter.powerocean.proto.powerocean_pb2 import Header, HeaderMessage
from exporter.simulate import free_port
from tests.support.fake_ecoflow_api import CERTIFICATION_PATH, LOGIN_PATH, FakeEcoFlowApi
from tests.support.mosquitto import HOST, Inbox, Mosquitto, Subscriber, mosquitto_broker
from tests.support.polling import until

FAST = Backoff(0.05, 0.3)
WAIT = 5.0
#: How long start() and stop() may take, with room for a busy machine.
PROMPT_SECONDS = 3.0
DEVICE_TOPIC = "/app/device/property/SN1"
REQUEST_TOPICS = "/app/+/SN1/thing/property/#"
EMAIL = "owner@example.com"
ACCOUNT_PASSWORD = "account-Pa55-word"
MQTT_USER, MQTT_PASSWORD = "app-user", "mqtt-Pa55-word"
TESTER, TESTER_PASSWORD = "tester", "tester-Pa55"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    yield from mosquitto_broker(tmp_path / "broker")


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def request_topic(user_id: str, kind: str) -> str:
    return f"/app/{user_id}/SN1/thing/property/{kind}"


def only_header(payload: bytes) -> Header:
    message = HeaderMessage.FromString(payload)
    assert len(message.header) == 1
    return message.header[0]


def broker_config(
    broker: Mosquitto, ca_file: Path | None = None, **options: Any
) -> PowerOceanConfig:
    options = {"keepalive_seconds": 0, "timeout_seconds": 2.0, **options}
    return PowerOceanConfig(
        devices={"SN1": "SN1"}, broker=BrokerConfig(url=broker.url, ca_file=ca_file), **options
    )


def login_config(api: FakeEcoFlowApi, password: str = ACCOUNT_PASSWORD) -> LoginConfig:
    return LoginConfig(EMAIL, Secret(password), api_url=api.url, ca_file=api.ca_file)


@contextmanager
def running(
    config: PowerOceanConfig, on_payload: Callable[[str, bytes], None], **options: Any
) -> Iterator[PowerOceanConnection]:
    connection = PowerOceanConnection(config, on_payload, backoff=FAST, **options)
    connection.start()
    try:
        yield connection
    finally:
        connection.stop()


def test_payloads_flow_and_requests_are_sent(broker: Mosquitto) -> None:
    inbox = Inbox()
    keepalive_topic = request_topic("exporter", "set")
    with Subscriber(broker, [REQUEST_TOPICS]) as requests:
        config = broker_config(broker, keepalive_seconds=0.5)
        with running(config, inbox.add) as connection:
            assert until(lambda: connection.connected)
            connected_at = time.monotonic()
            requests.publish(DEVICE_TOPIC, b"\x0a\x00")
            assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"\x0a\x00")], WAIT)
            assert requests.wait_for(lambda _: len(requests.inbox.on(keepalive_topic)) >= 3, WAIT)
            assert time.monotonic() - connected_at > 0.8  # one now, then every 0.5 s
        assert not connection.connected
        assert (connection.connects, connection.disconnects) == (1, 1)
        assert requests.wait_for(lambda items: len(items) == connection.published_requests, WAIT)
        time.sleep(0.7)
        assert len(requests.inbox.items) == connection.published_requests  # nothing after stop

    [get_all] = requests.inbox.on(request_topic("exporter", "get"))
    header = only_header(get_all)
    assert (header.src, header.dest, getattr(header, "from")) == (32, 32, "ios")
    assert header.pdata == b"" and header.seq > 0
    for payload in requests.inbox.on(keepalive_topic):
        header = only_header(payload)
        assert header.pdata == b"\x08\x01"
        assert (header.cmd_func, header.cmd_id, header.src, header.dest) == (96, 97, 32, 96)


def test_nothing_is_published_when_requests_are_off(broker: Mosquitto) -> None:
    inbox = Inbox()
    with Subscriber(broker, ["/app/+/+/thing/property/#"]) as requests:
        config = broker_config(broker, request_all_on_connect=False, keepalive_seconds=0)
        with running(config, inbox.add) as connection:
            assert until(lambda: connection.connected)
            requests.publish(DEVICE_TOPIC, b"x")
            assert inbox.wait_for(lambda items: len(items) == 1, WAIT)
            time.sleep(0.3)
    assert requests.inbox.items == []
    assert connection.published_requests == 0


def test_a_failing_handler_does_not_stop_delivery(
    broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()

    def on_payload(topic: str, payload: bytes) -> None:
        if payload == b"bad":
            raise RuntimeError("handler bug")
        inbox.add(topic, payload)

    with Subscriber(broker) as device, running(broker_config(broker), on_payload) as connection:
        assert until(lambda: connection.connected)
        device.publish(DEVICE_TOPIC, b"bad")
        device.publish(DEVICE_TOPIC, b"good")
        assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"good")], WAIT)
        assert connection.connected
    assert "payload handler failed" in caplog.text


def test_tls_broker_with_its_ca(tmp_path: Path) -> None:
    inbox = Inbox()
    with (
        Mosquitto(tmp_path, tls=True) as broker,
        Subscriber(broker) as device,
        running(broker_config(broker, ca_file=broker.ca_file), inbox.add) as connection,
    ):
        assert until(lambda: connection.connected)
        device.publish(DEVICE_TOPIC, b"tls")
        assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"tls")], WAIT)


def test_tls_broker_unknown_to_the_default_trust_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Mosquitto(tmp_path, tls=True) as broker, running(broker_config(broker), Inbox().add) as c:
        assert until(lambda: caplog.text.count("certificate verify failed") >= 2)
        assert not c.connected
        assert c.connects == 0


def test_broker_restart_reconnects_resubscribes_and_asks_again(broker: Mosquitto) -> None:
    inbox = Inbox()
    with running(broker_config(broker), inbox.add) as connection:
        assert until(lambda: connection.connected)
        broker.stop()
        assert until(lambda: not connection.connected)
        broker.start()
        assert until(lambda: connection.connected)
        with Subscriber(broker) as device:
            device.publish(DEVICE_TOPIC, b"after restart")
        assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"after restart")], WAIT)
        assert (connection.connects, connection.disconnects) == (2, 1)
        assert connection.published_requests == 2
    # The broker logged both get-all requests it received, one per connection.
    assert broker.log_text().count(f"'{request_topic('exporter', 'get')}'") == 2


def test_broker_down_at_start(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    connection = PowerOceanConnection(broker_config(broker), Inbox().add, backoff=FAST)
    began = time.monotonic()
    connection.start()
    try:
        assert time.monotonic() - began < PROMPT_SECONDS  # waits for no connection
        time.sleep(0.5)
        assert not connection.connected
        broker.start()
        assert until(lambda: connection.connected)
    finally:
        connection.stop()
        broker.stop()
    connection.stop()  # idempotent


def test_login_mode_over_tls(
    tmp_path: Path, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {MQTT_USER: MQTT_PASSWORD, TESTER: TESTER_PASSWORD}
    inbox = Inbox()
    with (
        Mosquitto(tmp_path / "broker", tls=True, ca=ca, users=users) as broker,
        FakeEcoFlowApi(
            tmp_path / "api",
            email=EMAIL,
            password=ACCOUNT_PASSWORD,
            broker_port=broker.port,
            protocol="mqtts",
            ca=ca,
            certificate_passwords=[MQTT_PASSWORD],
        ) as api,
        Subscriber(broker, [REQUEST_TOPICS], username=TESTER, password=TESTER_PASSWORD) as sub,
    ):
        config = PowerOceanConfig(
            devices={"SN1": "SN1"}, login=login_config(api), keepalive_seconds=0
        )
        with running(config, inbox.add) as connection:
            assert until(lambda: connection.connected)
            sub.publish(DEVICE_TOPIC, b"via login")
            assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"via login")], WAIT)
            assert sub.wait_for(lambda items: len(items) == 1, WAIT)
        assert sub.inbox.items[0][0] == request_topic(api.user_id, "get")
        assert api.calls == {LOGIN_PATH: 1, CERTIFICATION_PATH: 1}
        assert (connection.login_attempts, connection.login_failures) == (1, 0)
        for secret in (ACCOUNT_PASSWORD, MQTT_PASSWORD, api.token):
            assert secret not in caplog.text


def test_wrong_password_is_permanent_and_not_hammered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-Pa55-word"
    with FakeEcoFlowApi(
        tmp_path, email=EMAIL, password=ACCOUNT_PASSWORD, broker_port=free_port()
    ) as api:
        with pytest.raises(ApiError) as raised:
            login(login_config(api, wrong), timeout=2)
        assert raised.value.permanent
        assert "1002" in str(raised.value) and "wrong password" in str(raised.value)
        assert wrong not in str(raised.value)

        config = PowerOceanConfig(devices={"SN1": "SN1"}, login=login_config(api, wrong))
        with running(config, Inbox().add) as connection:
            assert until(lambda: connection.login_failures == 1)
            time.sleep(2.5)
            assert not connection.connected
            stopping = time.monotonic()
        assert time.monotonic() - stopping < PROMPT_SECONDS  # not after the login backoff
        assert api.calls[LOGIN_PATH] == 2  # the direct call above and one by the connection
        assert api.calls[CERTIFICATION_PATH] == 0
        assert (connection.login_attempts, connection.login_failures) == (1, 1)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "1002" in errors[0].getMessage()
    assert wrong not in caplog.text


def test_transient_login_errors_use_the_short_backoff(tmp_path: Path, ca: trustme.CA) -> None:
    with (
        Mosquitto(tmp_path / "broker", users={MQTT_USER: MQTT_PASSWORD}) as broker,
        FakeEcoFlowApi(
            tmp_path / "api",
            email=EMAIL,
            password=ACCOUNT_PASSWORD,
            broker_port=broker.port,
            ca=ca,
            certificate_passwords=[MQTT_PASSWORD],
        ) as api,
    ):
        api.error_status = 503
        with pytest.raises(ApiError) as raised:
            login(login_config(api), timeout=2)
        assert not raised.value.permanent and "HTTP 503" in str(raised.value)

        config = PowerOceanConfig(devices={"SN1": "SN1"}, login=login_config(api))
        with running(config, Inbox().add) as connection:
            assert until(lambda: connection.login_failures >= 3)
            api.error_status = None
            assert until(lambda: connection.connected)
        assert connection.login_attempts == connection.login_failures + 1


def test_login_timeout_is_transient(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts TCP connections, never answers
        silent.bind((HOST, 0))
        silent.listen()
        config = LoginConfig(
            EMAIL, Secret(ACCOUNT_PASSWORD), f"https://{HOST}:{silent.getsockname()[1]}"
        )
        began = time.monotonic()
        with pytest.raises(ApiError) as raised:
            login(config, timeout=0.3)
    assert not raised.value.permanent
    assert time.monotonic() - began < 2


def test_refused_broker_credentials_trigger_a_new_login(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        Mosquitto(tmp_path / "broker", users={MQTT_USER: MQTT_PASSWORD}) as broker,
        FakeEcoFlowApi(
            tmp_path / "api",
            email=EMAIL,
            password=ACCOUNT_PASSWORD,
            broker_port=broker.port,
            certificate_passwords=["stale-Pa55-word", MQTT_PASSWORD],
        ) as api,
    ):
        config = PowerOceanConfig(devices={"SN1": "SN1"}, login=login_config(api))
        with running(config, Inbox().add) as connection:
            assert until(lambda: connection.connected)
        assert api.calls == {LOGIN_PATH: 2, CERTIFICATION_PATH: 2}
        assert (connection.login_attempts, connection.login_failures) == (2, 0)
        assert connection.connects == 1
    assert "refused the connection" in caplog.text
    for secret in (ACCOUNT_PASSWORD, MQTT_PASSWORD, "stale-Pa55-word"):
        assert secret not in caplog.text

"""PowerOceanConnection and the app login against a real Mosquitto and a local HTTPS API."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trustme

from exporter.config import Secret
from exporter.configfile import Config
from exporter.powerocean.config import BrokerConfig, LoginConfig, PowerOceanConfig
from exporter.powerocean.connection import Backoff, PowerOceanConnection
from exporter.powerocean.https import ApiError
from exporter.powerocean.login import login
from exporter.powerocean.proto.powerocean_pb2 import Header, HeaderMessage
from exporter.simulate import free_port
from tests.support.exporters import start_exporter
from tests.support.fake_ecoflow_api import CERTIFICATION_PATH, LOGIN_PATH, FakeEcoFlowApi
from tests.support.mosquitto import HOST, Inbox, Mosquitto, Subscriber, mosquitto_broker
from tests.support.polling import until
from tests.support.powerocean_messages import (
    OCEAN2_TELEMETRY,
    ocean2_full_telemetry,
    ocean2_payload,
)
from tests.support.scrape import scrape_until

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
    options = {
        "keepalive_seconds": 0,
        "latest_quotas_seconds": 0,
        "timeout_seconds": 2.0,
        **options,
    }
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
        published = sum(connection.published_requests.values())
        assert requests.wait_for(lambda items: len(items) == published, WAIT)
        time.sleep(0.7)
        assert len(requests.inbox.items) == published  # nothing after stop

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
    assert connection.published_requests == {"energy_stream": 0, "get_all": 0, "latest_quotas": 0}


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


def test_broker_restart_reconnects_resubscribes_and_asks_again(
    broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()
    with running(broker_config(broker), inbox.add) as connection:
        assert until(lambda: connection.connected)
        broker.stop()
        assert until(lambda: not connection.connected)
        lost = f"PowerOcean broker {HOST}:{broker.port}: connection lost"
        assert f"{lost} (the broker or the network closed it)" in caplog.text
        broker.start()
        assert until(lambda: connection.connected)
        with Subscriber(broker) as device:
            device.publish(DEVICE_TOPIC, b"after restart")
        assert inbox.wait_for(lambda items: items == [(DEVICE_TOPIC, b"after restart")], WAIT)
        assert (connection.connects, connection.disconnects) == (2, 1)
        assert connection.published_requests["get_all"] == 2
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
            devices={"SN1": "SN1"},
            login=login_config(api),
            keepalive_seconds=0,
            latest_quotas_seconds=0,
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


def certification(**changes: object) -> dict[str, object]:
    """A certification answer with ``changes`` to its data (None: the key left out)."""
    data: dict[str, object] = {
        "url": HOST,
        "port": "8883",
        "protocol": "mqtts",
        "certificateAccount": MQTT_USER,
        "certificatePassword": MQTT_PASSWORD,
    }
    data.update(changes)
    return {"code": "0", "message": "Success", "data": {k: v for k, v in data.items() if v}}


@pytest.mark.parametrize(
    ("path", "answer", "reason"),
    [
        (
            LOGIN_PATH,
            b"<html>Down for maintenance</html>",
            "login: the answer is not a JSON object",
        ),
        (LOGIN_PATH, b'["code", "0"]', "login: the answer is not a JSON object"),
        (LOGIN_PATH, {"code": "0", "message": "Success"}, "login: the answer has no data"),
        (
            LOGIN_PATH,
            {"code": "0", "data": {"user": {"userId": "17"}}},
            "login: the answer has no token",
        ),
        (
            LOGIN_PATH,
            {"code": "0", "data": {"token": "t0k3n-0f-the-user", "user": "17"}},
            "login: the answer has no userId",
        ),
        (
            CERTIFICATION_PATH,
            certification(protocol="ws"),
            "certification: unusable broker address",
        ),
        (CERTIFICATION_PATH, certification(port="70000"), "certification: unusable broker address"),
        (CERTIFICATION_PATH, certification(port=None), "certification: unusable broker address"),
        (CERTIFICATION_PATH, certification(url=None), "certification: the answer has no url"),
        (
            CERTIFICATION_PATH,
            certification(certificatePassword=None),
            "certification: the answer has no certificatePassword",
        ),
    ],
)
def test_an_answer_the_login_cannot_use_is_a_transient_error_naming_what_is_missing(
    tmp_path: Path, path: str, answer: dict[str, object] | bytes, reason: str
) -> None:
    with FakeEcoFlowApi(
        tmp_path, email=EMAIL, password=ACCOUNT_PASSWORD, broker_port=free_port()
    ) as api:
        api.answers[path] = answer
        with pytest.raises(ApiError) as raised:
            login(login_config(api), timeout=2)
    assert str(raised.value).startswith(f"EcoFlow {reason}")
    assert not raised.value.permanent
    for secret in (ACCOUNT_PASSWORD, api.token, "t0k3n-0f-the-user"):
        assert secret not in str(raised.value)


def test_a_ca_file_that_is_no_certificate_is_a_permanent_error(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n")
    with FakeEcoFlowApi(
        tmp_path / "api", email=EMAIL, password=ACCOUNT_PASSWORD, broker_port=free_port()
    ) as api:
        config = LoginConfig(EMAIL, Secret(ACCOUNT_PASSWORD), api_url=api.url, ca_file=not_pem)
        with pytest.raises(ApiError) as raised:
            login(config, timeout=2)
        assert api.calls == {}  # nothing was sent
    assert str(raised.value).startswith("EcoFlow login: cannot load ca_file: ")
    assert raised.value.permanent


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


def test_a_broker_that_never_answers_connect_is_left_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A port that takes the TCP connection but never answers CONNECT (a TLS port asked in
    plain MQTT, a stuck broker): each attempt ends after the timeout, with a hint."""
    with socket.socket() as silent:  # accepts TCP connections, never answers
        silent.bind((HOST, 0))
        silent.listen()
        address = f"{HOST}:{silent.getsockname()[1]}"
        broker = BrokerConfig(url=f"mqtt://{address}")
        config = PowerOceanConfig(devices={"SN1": "SN1"}, broker=broker, timeout_seconds=0.3)
        with running(config, Inbox().add) as connection:
            assert until(lambda: caplog.text.count("no answer to CONNECT") >= 2, timeout=WAIT)
            assert not connection.connected
            stopping = time.monotonic()
        assert time.monotonic() - stopping < PROMPT_SECONDS
    assert connection.connects == 0
    [first, *_] = [r for r in caplog.records if "no answer to CONNECT" in r.getMessage()]
    assert first.levelno == logging.WARNING
    assert first.getMessage() == (
        f"PowerOcean broker {address}: no answer to CONNECT (a TLS port? then use mqtts://)"
    )


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


# -- the data requests, as a subscriber on the broker sees them ----------------------------

#: Intervals short enough for a test; the defaults (20, 30, 60 s) are checked in the config tests.
KEEPALIVE, LATEST_QUOTAS, SILENT_AFTER = 0.5, 0.75, 1.0
#: Each data request, as the exporter names it in powerocean_mqtt_requests_published_total.
ON_CONNECT = ["energy_stream", "get_all", "latest_quotas"]


def request_name(topic: str, payload: bytes) -> str:
    """Which data request a payload on a request topic is."""
    if topic.endswith("/set"):
        header = only_header(payload)
        assert (header.cmd_func, header.cmd_id, header.pdata) == (96, 97, b"\x08\x01")
        return "energy_stream"
    if payload.startswith(b"{"):
        assert json.loads(payload)["operateType"] == "latestQuotas"
        return "latest_quotas"
    header = only_header(payload)
    assert (header.src, header.dest, header.cmd_func, header.pdata) == (32, 32, 0, b"")
    return "get_all"


def requests_to(subscriber: Subscriber, serial: str = "SN1") -> list[tuple[float, str]]:
    """(arrival, request name) of each request the subscriber saw sent to ``serial``."""
    return [
        (at, request_name(topic, payload))
        for at, topic, payload in subscriber.inbox.arrivals()
        if topic.split("/")[3] == serial
    ]


def times_of(name: str, seen: list[tuple[float, str]]) -> list[float]:
    return [at for at, request in seen if request == name]


def assert_every(interval: float, times: list[float]) -> None:
    """Consecutive times are ``interval`` apart, give or take what a busy machine adds."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps and all(0.6 * interval <= gap <= interval + 1.5 for gap in gaps), gaps


@contextmanager
def reporting(broker: Mosquitto, serial: str, every: float = 0.2) -> Iterator[None]:
    """A device that publishes on its topic every ``every`` seconds while the block runs."""
    done = threading.Event()

    def report(device: Subscriber) -> None:
        while not done.wait(every):
            device.publish(f"/app/device/property/{serial}", b"\x0a\x00")

    with Subscriber(broker) as device:
        thread = threading.Thread(target=report, args=(device,))
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def test_requests_go_out_on_connect_and_then_at_their_intervals(broker: Mosquitto) -> None:
    with Subscriber(broker, [REQUEST_TOPICS]) as requests:
        config = broker_config(
            broker, keepalive_seconds=KEEPALIVE, latest_quotas_seconds=LATEST_QUOTAS
        )
        with running(config, Inbox().add) as connection:
            assert requests.wait_for(
                lambda _: len(times_of("latest_quotas", requests_to(requests))) >= 5, 10 * WAIT
            )
        published = connection.published_requests
        assert requests.wait_for(lambda items: len(items) == sum(published.values()), WAIT)

    seen = requests_to(requests)
    assert [name for _, name in seen[:3]] == ON_CONNECT
    assert len(times_of("get_all", seen)) == 1  # on connect only, while the system reports
    assert_every(KEEPALIVE, times_of("energy_stream", seen))
    assert_every(LATEST_QUOTAS, times_of("latest_quotas", seen))
    assert published == Counter(name for _, name in seen)


def test_a_silent_connection_is_asked_again_then_made_anew_with_a_new_login(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    users = {MQTT_USER: MQTT_PASSWORD, TESTER: TESTER_PASSWORD}
    with (
        Mosquitto(tmp_path / "broker", users=users) as broker,
        FakeEcoFlowApi(
            tmp_path / "api",
            email=EMAIL,
            password=ACCOUNT_PASSWORD,
            broker_port=broker.port,
            certificate_passwords=[MQTT_PASSWORD],
        ) as api,
        Subscriber(broker, [REQUEST_TOPICS], username=TESTER, password=TESTER_PASSWORD) as sub,
    ):
        # The periodic requests are due after the test: what it sees is sent on connect
        # and on silence only.
        config = PowerOceanConfig(
            devices={"SN1": "SN1"},
            login=login_config(api),
            keepalive_seconds=3600,
            latest_quotas_seconds=3600,
            silent_after_seconds=SILENT_AFTER,
        )
        with running(config, Inbox().add) as connection:
            assert sub.wait_for(lambda items: len(items) == 6, 4 * SILENT_AFTER + WAIT)
            assert api.calls[LOGIN_PATH] == 1  # asked again before reconnecting
            assert sub.wait_for(lambda items: len(items) == 9, 4 * SILENT_AFTER + WAIT)
            assert until(lambda: connection.connected)
        assert api.calls == {LOGIN_PATH: 2, CERTIFICATION_PATH: 2}
        assert (connection.connects, connection.disconnects) == (2, 2)  # the last one: stop

    seen = requests_to(sub)
    assert [name for _, name in seen] == ON_CONNECT * 3
    connected, asked_again, reconnected = (at for at, name in seen if name == "get_all")
    assert_every(SILENT_AFTER, [connected, asked_again, reconnected])
    assert connection.published_requests == dict.fromkeys(ON_CONNECT, 3)
    assert "no system sent anything for 2 s, though asked again; reconnecting with a new login" in (
        caplog.text
    )


def test_a_silent_system_is_asked_again_while_the_others_report(broker: Mosquitto) -> None:
    with Subscriber(broker, ["/app/+/+/thing/property/#"]) as requests:
        config = replace(
            broker_config(broker, silent_after_seconds=SILENT_AFTER),
            devices={"SN1": "SN1", "SN2": "SN2"},
        )
        with running(config, Inbox().add) as connection, reporting(broker, "SN1"):
            assert requests.wait_for(
                lambda _: len(requests_to(requests, "SN2")) >= 4, 5 * SILENT_AFTER + WAIT
            )
            assert connection.connected
        assert (connection.connects, connection.disconnects) == (1, 1)  # no reconnect

    assert len(requests_to(requests, "SN1")) == 1  # the get-all on connect
    assert_every(SILENT_AFTER, times_of("get_all", requests_to(requests, "SN2")))


# -- by model: what keeps an Ocean 2 streaming ----------------------------------------------

POWEROCEAN_SERIAL, OCEAN2_SERIAL = "HJ31ZTEST0000001", "RE11ZTEST0000001"
#: A system whose serial prefix tells no model, until its frames tell it is an Ocean 2.
UNTOLD_SERIAL = "ZZ99ZTEST0000001"


def test_an_ocean2_is_sent_latest_quotas_and_no_energy_stream_switch(broker: Mosquitto) -> None:
    """The exporter, its mapping and its ingest: an Ocean 2 (by its serial's prefix, or by
    its frames) is sent the get-all and latestQuotas, never the 96/97 it does not have."""
    serials = (POWEROCEAN_SERIAL, OCEAN2_SERIAL, UNTOLD_SERIAL)
    config = PowerOceanConfig(
        devices={serial: serial for serial in serials},
        broker=BrokerConfig(url=broker.url),
        keepalive_seconds=KEEPALIVE,
        latest_quotas_seconds=LATEST_QUOTAS,
    )
    with Subscriber(broker, ["/app/+/+/thing/property/#"]) as requests:
        exporter = start_exporter(Config(powerocean=config))
        try:
            assert requests.wait_for(
                lambda _: len(times_of("energy_stream", requests_to(requests, UNTOLD_SERIAL))) >= 2,
                10 * WAIT,
            )
            requests.publish(
                f"/app/device/property/{UNTOLD_SERIAL}",
                ocean2_payload(UNTOLD_SERIAL, (OCEAN2_TELEMETRY, ocean2_full_telemetry())),
            )
            scrape_until(
                exporter.port,
                lambda r: r.has("powerocean_system_info", serial=UNTOLD_SERIAL, model="ocean2"),
            )
            told = time.monotonic()

            def quotas_since_told() -> int:
                seen = times_of("latest_quotas", requests_to(requests, UNTOLD_SERIAL))
                return len([at for at in seen if at > told])

            assert requests.wait_for(lambda _: quotas_since_told() >= 4, 10 * WAIT)
        finally:
            exporter.stop()

    ocean2 = requests_to(requests, OCEAN2_SERIAL)
    assert [name for _, name in ocean2[:2]] == ["get_all", "latest_quotas"]
    assert "energy_stream" not in {name for _, name in ocean2}
    assert len(times_of("get_all", ocean2)) == 1
    assert_every(LATEST_QUOTAS, times_of("latest_quotas", ocean2))

    powerocean = requests_to(requests, POWEROCEAN_SERIAL)
    assert [name for _, name in powerocean[:3]] == ON_CONNECT
    assert_every(KEEPALIVE, times_of("energy_stream", powerocean))

    untold = requests_to(requests, UNTOLD_SERIAL)
    assert [name for _, name in untold[:3]] == ON_CONNECT
    since_told = [at for at in times_of("latest_quotas", untold) if at > told]
    # A switch on its way while the frame was read arrives before the second latestQuotas.
    assert all(at < since_told[1] for at in times_of("energy_stream", untold))

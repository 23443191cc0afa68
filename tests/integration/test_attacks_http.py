"""Hostile HTTP clients against the running exporter: bad /probe input, basic auth, TLS."""

from __future__ import annotations

import base64
import os
import socket
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import bcrypt
import pytest

from tests.support.exporter_process import ExporterProcess
from tests.support.scrape import get


@pytest.fixture(scope="module")
def exporter() -> Iterator[ExporterProcess]:
    process = ExporterProcess()
    process.wait_until_served()
    yield process
    process.stop()


@pytest.mark.parametrize(
    "query",
    [
        "module=refu&target=127.0.0.1:0",
        "module=refu&target=127.0.0.1%00:502",
        "module=refu&target=127.0.0.1:502%00",
        "module=refu&target=host%0Aname:502",
        "module=refu&target=http://10.0.0.1:502",
        "module=refu&target=user@10.0.0.1:502",
        "module=refu&target=127.0.0.1:99999",
        "module=refu&target=127.0.0.1:-1",
        "module=refu&target=" + "x" * 10_000,
        "module=refu&target=[::1",
        "module=refu&target=127.0.0.1:502&unit_id=256",
        "module=refu&target=127.0.0.1:502&unit_id=one",
        "module=refu",
        "module=snmp&target=127.0.0.1:502",
    ],
)
def test_bad_probe_requests_get_400(exporter, query):
    status, body = get(f"{exporter.url}/probe?{query}")
    assert status == 400, body
    assert len(body) < 300


@pytest.mark.parametrize(
    "path",
    [
        "/nothing-here",
        "/metrics/",
        "/metricsx",
        "/probe/refu",
        "/-/reload",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/" + "a" * 4000,
        "/metrics%00",
    ],
)
def test_a_path_the_exporter_does_not_serve_gets_404(exporter, path):
    status, body = get(f"{exporter.url}{path}")
    assert (status, body) == (404, "Not found\n")


def test_a_bad_scrape_timeout_header_gets_400(exporter):
    status, _ = get(
        f"{exporter.url}/probe?target=127.0.0.1:1",
        {"X-Prometheus-Scrape-Timeout-Seconds": "soon"},
    )
    assert status == 400


def test_garbage_on_the_socket_does_not_hurt_the_exporter(exporter):
    for garbage in (
        b"\x00\xff" * 500 + b"\r\n\r\n",
        b"GET /" + b"A" * 70_000 + b" HTTP/1.1\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", exporter.port), timeout=5) as connection:
            connection.sendall(garbage)
            answer = connection.recv(100)
        assert not answer.startswith(b"HTTP/1.0 5") and not answer.startswith(b"HTTP/1.1 5")
    assert get(f"{exporter.url}/-/healthy")[0] == 200
    assert exporter.running


def raw_exchange(exporter: ExporterProcess, request: bytes) -> tuple[int, bytes]:
    """Status and body of the answer to ``request`` sent as is on a new connection."""
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):  # the server closes after an error
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.mark.parametrize(
    "request_with",
    [
        lambda sent: b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n\r\n" % sent,
        lambda sent: b"GET /probe?target=%s HTTP/1.1\r\nHost: x\r\n\r\n" % sent,
    ],
    ids=["30 KB header", "long request line"],
)
def test_an_oversized_request_is_refused_without_echoing_it(exporter, request_with):
    sent = base64.b64encode(os.urandom(22_500))  # 30,000 bytes no answer would contain by chance
    status, body = raw_exchange(exporter, request_with(sent))
    assert status in (400, 414, 431)
    assert len(body) < 300
    assert b"longer than" in body
    for start in range(0, len(sent) - 8, 8):
        assert sent[start : start + 8] not in body
    assert get(f"{exporter.url}/metrics")[0] == 200
    assert sent[:16].decode() not in exporter.log


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[ExporterProcess]:
    """An exporter with basic auth; bcrypt cost 10, as the toolkit's documentation suggests."""
    directory = tmp_path_factory.mktemp("auth")
    hashed = bcrypt.hashpw(b"right-password", bcrypt.gensalt(rounds=10)).decode()
    web = directory / "web.yml"
    web.write_text(f"basic_auth_users: {{prometheus: '{hashed}'}}\n")
    process = ExporterProcess("--web.config.file", str(web))
    process.wait_until_served()
    yield process
    process.stop()


def status_as(exporter: ExporterProcess, user: bytes, password: bytes) -> int:
    token = base64.b64encode(user + b":" + password).decode()
    return get(f"{exporter.url}/metrics", {"Authorization": f"Basic {token}"})[0]


def test_a_password_longer_than_bcrypt_takes_gets_401(guarded):
    assert status_as(guarded, b"prometheus", b"p" * 73) == 401
    assert status_as(guarded, b"prometheus", "\u00e9".encode() * 100) == 401
    assert status_as(guarded, b"nobody", b"p" * 1000) == 401
    assert status_as(guarded, b"prometheus", b"right-password") == 200
    assert "Traceback" not in guarded.log


@pytest.mark.parametrize(
    "header",
    ["Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Bearer x", "Basic"],
)
def test_malformed_authorization_gets_401(guarded, header):
    assert get(f"{guarded.url}/metrics", {"Authorization": header})[0] == 401


def test_unknown_users_take_as_long_as_wrong_passwords(guarded):
    def median_seconds(user: bytes) -> float:
        times = []
        for attempt in range(7):
            started = time.perf_counter()
            assert status_as(guarded, user, b"wrong-%d" % attempt) == 401
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    known, unknown = median_seconds(b"prometheus"), median_seconds(b"mallory")
    assert known > 0.01, "bcrypt cost 10 takes tens of milliseconds"
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_headers_from_the_web_config_are_sent(exporter_process, tmp_path):
    web = tmp_path / "web.yml"
    web.write_text("http_server_config: {headers: {X-Frame-Options: deny}}\n")
    process = exporter_process("--web.config.file", str(web))
    process.wait_until_served()
    with urllib.request.urlopen(f"{process.url}/-/healthy", timeout=5) as response:
        assert response.headers["X-Frame-Options"] == "deny"


def test_rate_limit_answers_429_beyond_the_burst(exporter_process, tmp_path):
    web = tmp_path / "web.yml"
    web.write_text("rate_limit: {interval: 1m, burst: 3}\n")
    process = exporter_process("--web.config.file", str(web))
    process.wait_until_served()  # the first of the burst
    statuses = [get(f"{process.url}/-/healthy")[0] for _ in range(4)]
    assert statuses == [200, 200, 429, 429]

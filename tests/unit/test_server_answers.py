"""What ``/metrics`` answers, from the HTTP server on a loopback port of the test process."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator

import pytest
from prometheus_client.core import GaugeMetricFamily

from exporter.eventloop import EventLoopThread
from exporter.server import HttpServer
from tests.support.scrape import PROMETHEUS_ACCEPT


class OneGauge:
    def collect(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily("x_up", "Up.", value=1)]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    loop = EventLoopThread("test-http")
    server = HttpServer("127.0.0.1", 0, loop, collectors=[OneGauge()])
    yield server.port
    server.stop()
    loop.stop()


@pytest.fixture
def call(port):
    def call(method: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request(method, "/metrics", headers=headers)
            response = connection.getresponse()
            status = f"{response.status} {response.reason}"
            return status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    return call


def test_prometheus_gets_gzipped_openmetrics(call):
    status, headers, body = call("GET", Accept=PROMETHEUS_ACCEPT, **{"Accept-Encoding": "gzip"})
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0;")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1.0\n# EOF\n"


def test_a_plain_client_gets_the_text_format(call):
    status, headers, body = call("GET", **{"Accept-Encoding": "identity"})
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "Content-Encoding" not in headers
    assert body == b"# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1.0\n"


def test_only_get_and_options_are_answered(call):
    status, headers, _ = call("OPTIONS")
    assert (status, headers["Allow"]) == ("200 OK", "OPTIONS,GET")
    status, headers, body = call("POST")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "OPTIONS,GET")
    assert b"use OPTIONS or GET" in body

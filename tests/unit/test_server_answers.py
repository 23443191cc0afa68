"""What ``/metrics`` answers, called in-process as the HTTP server calls it."""

from __future__ import annotations

import gzip
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from exporter.server import ExporterApp
from tests.support.scrape import PROMETHEUS_ACCEPT


class OneGauge:
    def collect(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily("x_up", "Up.", value=1)]


def call(method: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    app = ExporterApp(collectors=[OneGauge()])
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer.update(status=status, headers=dict(response_headers))

    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/metrics", **headers}
    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def test_prometheus_gets_gzipped_openmetrics():
    status, headers, body = call(
        "GET", HTTP_ACCEPT=PROMETHEUS_ACCEPT, HTTP_ACCEPT_ENCODING="gzip, deflate"
    )
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0;")
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1.0\n# EOF\n"


def test_a_plain_client_gets_the_text_format():
    status, headers, body = call("GET")
    assert (status, headers) == (
        "200 OK",
        {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
    assert body == b"# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1.0\n"


def test_only_get_and_options_are_answered():
    assert call("OPTIONS")[:2] == ("200 OK", {"Allow": "OPTIONS,GET"})
    status, headers, body = call("POST")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "OPTIONS,GET")
    assert b"use OPTIONS or GET" in body

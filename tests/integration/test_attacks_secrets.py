"""Secrets under attack: an EcoFlow API that echoes them back or redirects the token away.

The running exporter logs in against a local HTTPS fake; no form of the password or the
token (plain, base64, URL-encoded), whole or any 8 characters of it, may reach its log
or its metrics.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.support.exporter_process import ExporterProcess
from tests.support.fake_ecoflow_api import CERTIFICATION_PATH, FakeEcoFlowApi
from tests.support.scrape import get
from tests.support.secrets import assert_no_secret

PASSWORD = "pässwörd+/=&Secret-1234"
EMAIL = "owner@example.com"


class EchoingApi(FakeEcoFlowApi):
    """Rejects the login, or the certification, with a message made by ``echo``."""

    def __init__(self, directory: Path, echo: Callable[[bytes, object], str], step: str) -> None:
        super().__init__(directory, email=EMAIL, password=PASSWORD, broker_port=1)
        self.echo = echo
        self.step = step

    def _login(self, body: bytes) -> tuple[int, dict]:
        if self.step == "login":
            return 200, {"code": "1002", "message": self.echo(body, None)}
        return super()._login(body)

    def _certification(self, headers, query) -> tuple[int, dict]:
        return 200, {"code": "1006", "message": self.echo(b"", headers)}


def password_in_body(body: bytes) -> str:
    return json.loads(body)["password"]


ECHOES = {
    "plain": ("login", lambda body, _: f"wrong password {PASSWORD}"),
    "base64": ("login", lambda body, _: f"bad request {body.decode()}"),
    "url-encoded": ("login", lambda body, _: "see ?password=" + quote_plus(PASSWORD)),
    "url-encoded, lower case": ("login", lambda body, _: "see " + quote(PASSWORD).lower()),
    "url-encoded base64": ("login", lambda body, _: quote_plus(password_in_body(body))),
    "across the cut": ("login", lambda body, _: "x" * 175 + PASSWORD),
    "across a cut of the message alone": ("login", lambda body, _: "x" * 190 + PASSWORD),
    "base64 across the cut": ("login", lambda body, _: "x" * 175 + password_in_body(body)),
    "a part": ("login", lambda body, _: f"starts with {PASSWORD[:9]}"),
    "the token": ("certification", lambda _, headers: f"token {headers['authorization']}"),
}


def login_config(directory: Path, api: FakeEcoFlowApi) -> Path:
    (directory / "password").write_text(PASSWORD + "\n")
    config = directory / "config.yml"
    config.write_text(
        "powerocean:\n"
        f"  login: {{email: {EMAIL}, password_file: password, api_url: '{api.url}', "
        f"ca_file: '{api.ca_file}'}}\n"
        "  devices: [R371ZD1AZH000001]\n"
    )
    return config


@pytest.mark.parametrize("echo", list(ECHOES))
def test_an_echoed_secret_never_reaches_log_or_metrics(tmp_path, echo):
    step, make_message = ECHOES[echo]
    with EchoingApi(tmp_path / "api", make_message, step) as api:
        process = ExporterProcess("--config", str(login_config(tmp_path, api)))
        try:
            process.wait_until_served()
            line = process.wait_for_log("PowerOcean login failed")
            status, metrics = get(f"{process.url}/metrics")
        finally:
            process.stop()
    assert f"EcoFlow {step} rejected: code" in line
    assert status == 200
    for text in (process.log, metrics):
        assert_no_secret(text, PASSWORD)
        assert_no_secret(text, api.token)


class _Thief(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def thief() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Thief)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("where", ["http", "other host"])
def test_the_token_is_not_sent_along_a_redirect_to_another_origin(tmp_path, thief, where):
    with FakeEcoFlowApi(tmp_path / "api", email=EMAIL, password=PASSWORD, broker_port=1) as api:
        port = api.url.rsplit(":", 1)[1]
        api.redirects[CERTIFICATION_PATH] = {
            "http": f"http://127.0.0.1:{thief.server_address[1]}/steal",
            "other host": f"https://localhost:{port}/iot-auth/app/certification",
        }[where]
        process = ExporterProcess("--config", str(login_config(tmp_path, api)))
        try:
            process.wait_until_served()
            line = process.wait_for_log("PowerOcean login failed")
        finally:
            process.stop()
    assert "refused a redirect (HTTP 302) to another origin" in line
    assert thief.seen == []
    assert_no_secret(process.log, api.token)

"""A threaded HTTPS server on 127.0.0.1 that answers JSON, the base of the fake cloud APIs.

Not a test module. Subclasses implement ``reply``; the certificate comes from a trustme CA
whose PEM is ``ca_file``, and the port is ephemeral (``url`` tells it).
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import trustme

from tests.support.mosquitto import HOST, write_ca, write_server_cert

#: (HTTP status, JSON answer or the raw bytes of another, extra response headers)
Reply = tuple[int, dict[str, Any] | bytes, dict[str, str]]


class JsonHttpsServer:
    """Start and stop (also as a context manager); every request goes to ``reply``."""

    def __init__(self, directory: Path, ca: trustme.CA | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ca = ca or trustme.CA()
        self.ca_file = write_ca(ca, directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*write_server_cert(ca, directory))
        self._server = _QuietServer((HOST, 0), _Handler)
        # The handshake then happens on the request's thread, not in accept().
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """The answer to one request (``target`` is the path with its query string)."""
        raise NotImplementedError


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that refuse the certificate or hang up are part of the tests."""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def _respond(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: JsonHttpsServer = self.server.fake  # type: ignore[attr-defined]
        status, answer, headers = fake.reply(self.command, self.path, self.headers, body)
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the default writes every request to stderr."""

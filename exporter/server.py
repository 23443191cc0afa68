"""HTTP: ``/metrics``, ``/probe``, ``/-/healthy`` and a landing page.

Every request gets a fresh registry: the exporter's own collectors plus the REFU targets
that request asks for, read with the time Prometheus allows for the scrape
(``X-Prometheus-Scrape-Timeout-Seconds`` minus a small offset).
"""

from __future__ import annotations

import html
import logging
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.config import parse_address
from exporter.refu.collector import RefuCollector, TargetPool
from exporter.refu.target import Address, RefuTarget
from exporter.webconfig import WebConfig

log = logging.getLogger(__name__)

#: Seconds left for writing the answer when the scrape timeout comes from Prometheus.
TIMEOUT_OFFSET_SECONDS = 0.5

StartResponse = Callable[..., Any]


class BadRequest(ValueError):
    pass


class ExporterApp:
    """The WSGI application behind every endpoint."""

    def __init__(
        self,
        *,
        refu_pool: TargetPool,
        refu_targets: Sequence[tuple[str, RefuTarget]],
        refu_timeout: float,
        collectors: Iterable[Collector],
        web_config: WebConfig | None = None,
    ) -> None:
        self._pool = refu_pool
        self._refu_targets = list(refu_targets)
        self._refu_timeout = refu_timeout
        self._collectors = list(collectors)
        self._web_config = web_config or WebConfig()
        self._loop = refu_pool.loop

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self._web_config.headers:
            start_response = _adding_headers(start_response, self._web_config.headers)
        return self._route(environ, start_response)

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        limit = self._web_config.rate_limit
        if limit is not None and not limit.allow():
            return _text(start_response, "429 Too Many Requests", "Too many requests\n")
        if not self._web_config.authorized(environ.get("HTTP_AUTHORIZATION")):
            start_response(
                "401 Unauthorized",
                [
                    ("WWW-Authenticate", 'Basic realm="ess-exporter"'),
                    ("Content-Type", "text/plain"),
                ],
            )
            return [b"Unauthorized\n"]
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/metrics":
                return self._metrics(environ, start_response)
            if path == "/probe":
                return self._probe(environ, start_response)
        except BadRequest as exc:
            return _text(start_response, "400 Bad Request", f"{exc}\n")
        if path in ("/-/healthy", "/-/ready"):
            return _text(start_response, "200 OK", "Healthy\n")
        if path == "/":
            return _landing_page(start_response, self._refu_targets)
        return _text(start_response, "404 Not Found", "Not found\n")

    def _metrics(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        timeout = self._scrape_timeout(environ)
        collectors = [*self._collectors, RefuCollector(self._refu_targets, self._loop, timeout)]
        return _expose(collectors, environ, start_response)

    def _probe(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        params = parse_qs(environ.get("QUERY_STRING", ""))
        module = _param(params, "module", "refu")
        if module != "refu":
            raise BadRequest(f"unknown module {module!r} (known: refu)")
        target = _param(params, "target", "")
        if not target:
            raise BadRequest("'target' parameter is missing")
        try:
            host, port = parse_address(target)
            unit_id = int(_param(params, "unit_id", "1"))
        except ValueError as exc:
            raise BadRequest(f"bad target or unit_id: {exc}") from None
        if not 0 <= unit_id <= 255:
            raise BadRequest("unit_id must be 0..255")
        refu_target = self._pool.get(Address(host, port, unit_id))
        timeout = self._scrape_timeout(environ)
        collector = RefuCollector([(target, refu_target)], self._loop, timeout)
        return _expose([collector], environ, start_response)

    def _scrape_timeout(self, environ: dict[str, Any]) -> float:
        header = environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS")
        if not header:
            return self._refu_timeout
        try:
            allowed = float(header)
        except ValueError:
            raise BadRequest(f"bad X-Prometheus-Scrape-Timeout-Seconds {header!r}") from None
        return max(0.1, min(self._refu_timeout, allowed - TIMEOUT_OFFSET_SECONDS))


def _adding_headers(
    start_response: StartResponse, headers: Sequence[tuple[str, str]]
) -> StartResponse:
    """``start_response`` that adds the web config's ``headers`` to every answer."""

    def start(status: str, response_headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        return start_response(status, [*response_headers, *headers], *exc_info)

    return start


def _param(params: dict[str, list[str]], name: str, default: str) -> str:
    values = params.get(name)
    return values[-1] if values else default


def _expose(
    collectors: Iterable[Collector], environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return make_wsgi_app(registry)(environ, start_response)


def _text(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [body.encode()]


def _landing_page(
    start_response: StartResponse, targets: Sequence[tuple[str, RefuTarget]]
) -> list[bytes]:
    items = "".join(_target_item(name, target) for name, target in targets) or "<li>none</li>"
    body = f"""<!doctype html>
<html><head><title>ess-exporter</title></head>
<body>
<h1>ess-exporter {html.escape(__version__)}</h1>
<p>Prometheus exporter for REFU battery inverters and EcoFlow PowerOcean systems.</p>
<ul>
<li><a href="metrics">/metrics</a>: the exporter, configured REFU targets, PowerOcean systems</li>
<li>/probe: one REFU, <code>/probe?module=refu&amp;target=HOST:PORT&amp;unit_id=1</code></li>
<li><a href="-/healthy">/-/healthy</a></li>
</ul>
<h2>Configured REFU targets</h2><ul>{items}</ul>
</body></html>
"""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


def _target_item(name: str, target: RefuTarget) -> str:
    """A configured REFU with a link that reads it through /probe."""
    address = target.address
    query = urlencode(
        {"module": "refu", "target": f"{address.host}:{address.port}", "unit_id": address.unit_id}
    )
    return (
        f"<li>{html.escape(name)}: {html.escape(str(address))} "
        f'(<a href="probe?{html.escape(query)}">/probe</a>)</li>'
    )


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def handle(self) -> None:
        """Serve the request, after checking a TLS client's certificate names when asked to."""
        web_config: WebConfig = self.server.web_config  # type: ignore[attr-defined]
        if web_config.allowed_sans and isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except OSError as exc:
                log.debug("TLS handshake with %s failed: %s", self.address_string(), exc)
                return
            if not web_config.admits(self.connection.getpeercert()):
                log.warning(
                    "client certificate of %s names none of client_allowed_sans",
                    self.address_string(),
                )
                return
        super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class HttpServer:
    """Serves an ``ExporterApp`` on its own threads; one thread per request."""

    def __init__(self, app: ExporterApp, host: str, port: int, web_config: WebConfig) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        web_config.wrap(self._server)
        self._server.web_config = web_config  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

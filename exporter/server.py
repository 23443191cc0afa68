"""HTTP: ``/metrics``, ``/probe``, ``/-/healthy`` and a landing page.

Every request collects fresh families: the exporter's own collectors plus the devices of
the registered scrape modules that request asks for, read within the time Prometheus
allows for the scrape (``X-Prometheus-Scrape-Timeout-Seconds`` minus a small offset);
``exporter.exposition`` writes them. The server knows no device: see ``exporter.modules``.
"""

from __future__ import annotations

import html
import itertools
import logging
import math
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.registry import Collector

from exporter import __version__
from exporter.exposition import Exposition
from exporter.modules import BadRequest, ScrapeModule
from exporter.webconfig import WebConfig

log = logging.getLogger(__name__)

#: Seconds left for writing the answer when the scrape timeout comes from Prometheus.
TIMEOUT_OFFSET_SECONDS = 0.5

StartResponse = Callable[..., Any]


class ExporterApp:
    """The WSGI application behind every endpoint.

    ``collectors`` are always on ``/metrics``; each of ``modules`` (devices read when
    scraped) adds its configured devices there and answers ``/probe?module=<name>``.
    """

    def __init__(
        self,
        *,
        collectors: Iterable[Collector],
        modules: Iterable[ScrapeModule] = (),
        web_config: WebConfig | None = None,
    ) -> None:
        self._collectors = list(collectors)
        self._modules = {module.name: module for module in modules}
        self._web_config = web_config or WebConfig()
        self._exposition = Exposition()

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
            return _landing_page(start_response, self._modules.values())
        return _text(start_response, "404 Not Found", "Not found\n")

    def _metrics(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        timeout = _scrape_timeout(environ)
        collectors = [*self._collectors]
        for module in self._modules.values():
            collectors += module.collectors(timeout)
        return self._expose(collectors, environ, start_response)

    def _probe(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        params = {name: values[-1] for name, values in query.items()}
        # Without a module, the only one there is (as with blackbox_exporter's default).
        only = next(iter(self._modules)) if len(self._modules) == 1 else ""
        name = params.get("module") or only
        module = self._modules.get(name)
        if module is None:
            known = ", ".join(sorted(self._modules)) or "none"
            raise BadRequest(f"unknown module {name!r} (known: {known})")
        collectors = module.probe(params, _scrape_timeout(environ))
        return self._expose(collectors, environ, start_response)

    def _expose(
        self,
        collectors: Iterable[Collector],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """The families of ``collectors`` in the format and encoding the client accepts."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "GET":
            return _not_get(start_response, method)
        families = itertools.chain.from_iterable(c.collect() for c in collectors)
        headers, body = self._exposition.answer(
            families, environ.get("HTTP_ACCEPT"), environ.get("HTTP_ACCEPT_ENCODING")
        )
        start_response("200 OK", headers)
        return [body]


def _scrape_timeout(environ: dict[str, Any]) -> float | None:
    """What Prometheus allows for this scrape, less an offset for the answer; None if unsaid."""
    header = environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS")
    if not header:
        return None
    try:
        allowed = float(header)
    except ValueError:
        raise BadRequest(f"bad X-Prometheus-Scrape-Timeout-Seconds {header!r}") from None
    if not math.isfinite(allowed):
        raise BadRequest(f"bad X-Prometheus-Scrape-Timeout-Seconds {header!r}")
    return allowed - TIMEOUT_OFFSET_SECONDS


def _adding_headers(
    start_response: StartResponse, headers: Sequence[tuple[str, str]]
) -> StartResponse:
    """``start_response`` that adds the web config's ``headers`` to every answer."""

    def start(status: str, response_headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        return start_response(status, [*response_headers, *headers], *exc_info)

    return start


def _not_get(start_response: StartResponse, method: str) -> list[bytes]:
    """OPTIONS names the allowed methods; any other method but GET is refused."""
    allow = ("Allow", "OPTIONS,GET")
    if method == "OPTIONS":
        start_response("200 OK", [allow])
        return [b""]
    start_response("405 Method Not Allowed", [allow])
    return [f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n".encode()]


def _text(start_response: StartResponse, status: str, body: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [body.encode()]


def _landing_page(start_response: StartResponse, modules: Iterable[ScrapeModule]) -> list[bytes]:
    modules = list(modules)
    names = ", ".join(html.escape(module.name) for module in modules) or "none"
    sections = "".join(_module_section(module) for module in modules)
    body = f"""<!doctype html>
<html><head><title>ess-exporter</title></head>
<body>
<h1>ess-exporter {html.escape(__version__)}</h1>
<p>Prometheus exporter for battery storage systems.</p>
<ul>
<li><a href="metrics">/metrics</a>: the exporter and every configured device</li>
<li>/probe?module=NAME&amp;target=...: one device read when scraped (modules: {names})</li>
<li><a href="-/healthy">/-/healthy</a></li>
</ul>
{sections}
</body></html>
"""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


def _module_section(module: ScrapeModule) -> str:
    """The configured devices of a module, each linked to its own /probe."""
    items = "".join(
        f'<li>{html.escape(name)} (<a href="probe?{html.escape(query)}">/probe</a>)</li>'
        for name, query in module.links()
    )
    return (
        f"<h2>Configured {html.escape(module.name)} targets</h2><ul>{items or '<li>none</li>'}</ul>"
    )


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    #: Prometheus scrapes every target of a job within one interval: a burst of /probe
    #: connections must wait in the listen queue, not be refused (socketserver's is 5).
    request_queue_size = 1024


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

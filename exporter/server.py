"""HTTP: ``/metrics``, ``/probe``, ``/-/healthy`` and a landing page.

aiohttp's low-level server answers on the exporter's event loop, where device I/O runs
too: a connection costs a socket, not a thread. A burst of scrapes waits in a listen queue
of 1024; a connection that sends no complete request for ``idle_seconds`` is closed (slow
senders included); beyond ``max_connections`` the longest-open idle connection makes room.
A request that cannot be parsed gets a 400 that says why and quotes none of it.

Every request collects fresh families: the exporter's own collectors plus the devices of
the registered scrape modules that request asks for, read within the time Prometheus
allows for the scrape (``X-Prometheus-Scrape-Timeout-Seconds`` minus a small offset);
``exporter.exposition`` writes them. The server knows no device: see ``exporter.modules``.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import math
import resource
import threading
from collections.abc import Collection, Iterable
from typing import Any

from aiohttp import web

from exporter import __version__, exposition
from exporter.eventloop import EventLoopThread
from exporter.modules import BadRequest, Collector, ScrapeModule
from exporter.webconfig import WebConfig

log = logging.getLogger(__name__)

#: Seconds left for writing the answer when the scrape timeout comes from Prometheus.
TIMEOUT_OFFSET_SECONDS = 0.5
#: Prometheus fires every target of a job within one interval: a burst of /probe
#: connections waits in the listen queue instead of being refused.
LISTEN_QUEUE = 1024
#: A connection without a complete request for this long is closed. Prometheus keeps its
#: connection between scrapes and opens a new one when it finds it closed.
IDLE_SECONDS = 60.0
#: Seconds a TLS client has for its handshake.
TLS_HANDSHAKE_SECONDS = 10.0
#: The longest request line and header line read (aiohttp's default).
MAX_LINE_BYTES = 8190
#: The answer to a request that cannot be parsed (HTTP 400).
UNREADABLE_REQUEST = (
    "Bad Request: cannot parse the request (malformed, too many headers, or a request line "
    f"or header longer than {MAX_LINE_BYTES} bytes)\n"
)


class ExporterApp:
    """What every endpoint answers, as an aiohttp request handler.

    ``collectors`` are always on ``/metrics``; each of ``modules`` (devices read when
    scraped) adds its configured devices there and answers ``/probe?module=<name>``.
    ``collectors`` are synchronous: they are collected and written on a worker thread, so a
    large ``/metrics`` does not hold up the event loop.
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

    async def __call__(self, request: web.BaseRequest) -> web.Response:
        response = await self._route(request)
        for name, value in self._web_config.headers:
            response.headers[name] = value
        return response

    async def _route(self, request: web.BaseRequest) -> web.Response:
        limit = self._web_config.rate_limit
        if limit is not None and not limit.allow():
            return _text(429, "Too many requests\n")
        if not await self._authorized(request.headers.get("Authorization")):
            return web.Response(
                status=401,
                text="Unauthorized\n",
                headers={"WWW-Authenticate": 'Basic realm="ess-exporter"'},
            )
        path = request.path
        if path in ("/metrics", "/probe") and request.method != "GET":
            return _not_get(request.method)
        try:
            if path == "/metrics":
                return await self._metrics(request)
            if path == "/probe":
                return await self._probe(request)
        except BadRequest as exc:
            return _text(400, f"{exc}\n")
        if path in ("/-/healthy", "/-/ready"):
            return _text(200, "Healthy\n")
        if path == "/":
            return _landing_page(self._modules.values())
        return _text(404, "Not found\n")

    async def _authorized(self, header: str | None) -> bool:
        """bcrypt is slow by design: a header not seen before is checked on a worker thread."""
        if self._web_config.admits_at_once(header):
            return True
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._web_config.authorized, header)

    async def _metrics(self, request: web.BaseRequest) -> web.Response:
        timeout = _scrape_timeout(request)
        scraped = await asyncio.gather(*(m.scrape(timeout) for m in self._modules.values()))
        accept, encoding = _wanted(request)

        def write() -> tuple[list[tuple[str, str]], bytes]:
            own = itertools.chain.from_iterable(c.collect() for c in self._collectors)
            families = itertools.chain(own, itertools.chain.from_iterable(scraped))
            return exposition.answer(families, accept, encoding)

        headers, body = await asyncio.get_running_loop().run_in_executor(None, write)
        return web.Response(body=body, headers=headers)

    async def _probe(self, request: web.BaseRequest) -> web.Response:
        params = {name: request.query.getall(name)[-1] for name in request.query}
        # Without a module, the first one registered (as with blackbox_exporter's default).
        name = params.get("module") or next(iter(self._modules), "")
        module = self._modules.get(name)
        if module is None:
            known = ", ".join(sorted(self._modules)) or "none"
            raise BadRequest(f"unknown module {name!r} (known: {known})")
        families = await module.probe(params, _scrape_timeout(request))
        headers, body = exposition.answer(families, *_wanted(request))
        return web.Response(body=body, headers=headers)


def _wanted(request: web.BaseRequest) -> tuple[str | None, str | None]:
    """The client's Accept and Accept-Encoding headers."""
    return request.headers.get("Accept"), request.headers.get("Accept-Encoding")


def _scrape_timeout(request: web.BaseRequest) -> float | None:
    """What Prometheus allows for this scrape, less an offset for the answer; None if unsaid."""
    header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
    if not header:
        return None
    try:
        allowed = float(header)
    except ValueError:
        allowed = math.nan
    if not math.isfinite(allowed):
        raise BadRequest(f"bad X-Prometheus-Scrape-Timeout-Seconds {header!r}")
    return allowed - TIMEOUT_OFFSET_SECONDS


def _not_get(method: str) -> web.Response:
    """OPTIONS names the allowed methods; any other method but GET is refused."""
    allow = {"Allow": "OPTIONS,GET"}
    if method == "OPTIONS":
        return web.Response(status=200, headers=allow)
    body = f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n"
    return web.Response(status=405, text=body, headers=allow)


def _text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, charset="utf-8")


def _landing_page(modules: Collection[ScrapeModule]) -> web.Response:
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
    return web.Response(text=body, content_type="text/html", charset="utf-8")


def _module_section(module: ScrapeModule) -> str:
    """The configured devices of a module, each linked to its own /probe."""
    items = "".join(
        f'<li>{html.escape(name)} (<a href="probe?{html.escape(query)}">/probe</a>)</li>'
        for name, query in module.links()
    )
    return (
        f"<h2>Configured {html.escape(module.name)} targets</h2><ul>{items or '<li>none</li>'}</ul>"
    )


class _Connection(web.RequestHandler):
    """aiohttp's handler of one client connection, reported to ``server``.

    A request aiohttp cannot parse is answered with what was wrong, never with the bytes
    the client sent: aiohttp's own answer quotes the offending line, which may be part of
    an ``Authorization`` header.
    """

    def __init__(self, server: HttpServer, **options: Any) -> None:
        super().__init__(server.aiohttp_server, **options)
        self._http_server = server
        # Kept to report the close: aiohttp forgets its transport once it closes it.
        self._socket: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._socket = transport
        self._http_server.opened(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._socket is not None:
            self._http_server.closed(self._socket)
        super().connection_lost(exc)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if message is None:  # the exporter failed (500) or ran out of time (504)
            return super().handle_error(request, status, exc)
        log.debug("unreadable request from %s", request.remote)
        response = _text(status, UNREADABLE_REQUEST)
        response.force_close()
        return response


def default_connection_limit() -> int:
    """Half of the process's open-file limit: the other half is left for device
    connections, the broker's and files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 65536
    return max(64, soft // 2)


class HttpServer:
    """Serves an ``ExporterApp`` on ``loop``; listens from construction on.

    One ``_Connection`` per client, at most ``max_connections`` of them open, and only
    clients whose certificate the web config admits. A connection past the limit closes the
    longest-open one that has no request in flight, or itself when every other one is busy.
    """

    def __init__(
        self,
        app: ExporterApp,
        host: str,
        port: int,
        web_config: WebConfig,
        loop: EventLoopThread,
        *,
        idle_seconds: float = IDLE_SECONDS,
        max_connections: int | None = None,
    ) -> None:
        self._app = app
        self._web_config = web_config
        self._limit = default_connection_limit() if max_connections is None else max_connections
        self._loop = loop
        self._stopped = threading.Event()
        #: Open connections, the longest-open first, each with its requests in flight.
        self._in_flight: dict[asyncio.BaseTransport, int] = {}
        #: aiohttp's low-level server, the manager of every connection.
        self.aiohttp_server = web.Server(self._serve, loop=loop.loop)

        def connection() -> _Connection:
            return _Connection(
                self,
                loop=loop.loop,
                keepalive_timeout=idle_seconds,
                access_log=None,
                max_line_size=MAX_LINE_BYTES,
                max_field_size=MAX_LINE_BYTES,
            )

        tls = web_config.tls
        self._server = loop.run(
            loop.loop.create_server(
                connection,
                host or None,
                port,
                backlog=LISTEN_QUEUE,
                ssl=tls,
                ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS if tls else None,
            )
        )

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    def serve_forever(self) -> None:
        """Wait until ``stop`` (the loop serves on its own thread)."""
        self._stopped.wait()

    def stop(self) -> None:
        self._loop.run(self._close())
        self._stopped.set()

    async def _close(self) -> None:
        self._server.close()
        await self.aiohttp_server.shutdown(1.0)
        await self._server.wait_closed()

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        transport = request.transport
        self._count(transport, 1)
        try:
            return await self._app(request)
        finally:
            self._count(transport, -1)

    def _count(self, transport: asyncio.BaseTransport | None, change: int) -> None:
        if transport in self._in_flight:
            self._in_flight[transport] += change

    def opened(self, transport: asyncio.BaseTransport) -> None:
        if not self._web_config.admits(transport.get_extra_info("peercert")):
            peer = transport.get_extra_info("peername") or ("a client",)
            log.warning("client certificate of %s names none of client_allowed_sans", peer[0])
            transport.close()
            return
        self._in_flight[transport] = 0
        if len(self._in_flight) > self._limit:
            idle = next((t for t, busy in self._in_flight.items() if not busy), transport)
            log.debug("%d connections open: closing the longest-open idle one", self._limit)
            idle.close()

    def closed(self, transport: asyncio.BaseTransport) -> None:
        self._in_flight.pop(transport, None)

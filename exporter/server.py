"""HTTP: ``/metrics``, ``/probe``, ``/-/healthy`` and a landing page.

aiohttp's low-level server answers on the exporter's event loop, where device I/O runs
too: a connection costs a socket, not a thread. Every request collects fresh families
(the exporter's own collectors and the devices of the scrape modules it asks for) within
the time Prometheus allows for the scrape; ``exporter.exposition`` writes them. The server
knows no device: see ``exporter.modules``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import itertools
import logging
import math
import resource
from collections.abc import Collection, Iterable
from typing import Any

from aiohttp import web

from exporter import __version__, exposition
from exporter.eventloop import EventLoopThread
from exporter.exposition import AnyFamily
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


def _answer(families: Iterable[AnyFamily], request: web.BaseRequest) -> web.Response:
    """``families`` written as the client's Accept and Accept-Encoding headers ask."""
    accept, encoding = request.headers.get("Accept"), request.headers.get("Accept-Encoding")
    headers, body = exposition.answer(families, accept, encoding)
    return web.Response(body=body, headers=headers)


def _scrape_timeout(request: web.BaseRequest) -> float | None:
    """What Prometheus allows for this scrape, less an offset for the answer; None if unsaid."""
    header = request.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
    if not header:
        return None
    with contextlib.suppress(ValueError):
        if math.isfinite(allowed := float(header)):
            return allowed - TIMEOUT_OFFSET_SECONDS
    raise BadRequest(f"bad X-Prometheus-Scrape-Timeout-Seconds {header!r}")


def _not_get(method: str) -> web.Response:
    """OPTIONS names the allowed methods; any other method but GET is refused."""
    allow = {"Allow": "OPTIONS,GET"}
    if method == "OPTIONS":
        return web.Response(status=200, headers=allow)
    body = f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n"
    return web.Response(status=405, text=body, headers=allow)


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
    return web.Response(text=body, content_type="text/html")  # charset: UTF-8, the default


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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._http_server.opened(self, transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._http_server.closed(self)
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
        response = web.Response(status=status, text=UNREADABLE_REQUEST)
        response.force_close()
        return response


class HttpServer:
    """The exporter's endpoints, served on ``loop``; listens from construction on.

    ``collectors`` are always on ``/metrics``, collected and written on a worker thread (they
    are synchronous); each of ``modules`` adds its devices there and answers
    ``/probe?module=<name>``. A connection past ``max_connections`` closes the longest-open
    one with no request in flight, or itself when every other one is busy.
    """

    def __init__(
        self,
        host: str,
        port: int,
        loop: EventLoopThread,
        web_config: WebConfig | None = None,
        *,
        collectors: Iterable[Collector],
        modules: Iterable[ScrapeModule] = (),
        idle_seconds: float = IDLE_SECONDS,
        max_connections: int | None = None,
    ) -> None:
        self._collectors = list(collectors)
        self._modules = {module.name: module for module in modules}
        self._web_config = web_config = web_config or WebConfig()
        if max_connections is None:  # half the open-file limit: the rest is for devices and files
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            max_connections = 65536 if soft == resource.RLIM_INFINITY else max(64, soft // 2)
        self._limit = max_connections
        self._loop = loop
        #: Open connections, the longest-open first, each with its requests in flight.
        self._in_flight: dict[web.RequestHandler, int] = {}
        #: aiohttp's low-level server, the manager of every connection.
        self.aiohttp_server = web.Server(self._serve, loop=loop.loop)

        connection = functools.partial(
            _Connection,
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
        self.port = int(self._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        self._loop.run(self._close())

    async def _close(self) -> None:
        self._server.close()
        await self.aiohttp_server.shutdown(1.0)
        await self._server.wait_closed()

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        self._count(request.protocol, 1)
        try:
            response = await self._route(request)
        finally:
            self._count(request.protocol, -1)
        response.headers.update(self._web_config.headers)
        return response

    async def _route(self, request: web.BaseRequest) -> web.Response:
        limit = self._web_config.rate_limit
        if limit is not None and not limit.allow():
            return web.Response(status=429, text="Too many requests\n")
        if not await self._authorized(request.headers.get("Authorization")):
            challenge = {"WWW-Authenticate": 'Basic realm="ess-exporter"'}
            return web.Response(status=401, text="Unauthorized\n", headers=challenge)
        path = request.path
        if path in ("/metrics", "/probe") and request.method != "GET":
            return _not_get(request.method)
        try:
            if path == "/metrics":
                return await self._metrics(request)
            if path == "/probe":
                return await self._probe(request)
        except BadRequest as exc:
            return web.Response(status=400, text=f"{exc}\n")
        if path in ("/-/healthy", "/-/ready"):
            return web.Response(status=200, text="Healthy\n")
        if path == "/":
            return _landing_page(self._modules.values())
        return web.Response(status=404, text="Not found\n")

    async def _authorized(self, header: str | None) -> bool:
        """bcrypt is slow by design: a header not seen before is checked on a worker thread."""
        if self._web_config.admits_at_once(header):
            return True
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._web_config.authorized, header)

    async def _metrics(self, request: web.BaseRequest) -> web.Response:
        timeout = _scrape_timeout(request)
        scraped = await asyncio.gather(*(m.scrape(timeout) for m in self._modules.values()))
        # Lazy: the collectors are asked on the worker thread, as the answer is written.
        own = itertools.chain.from_iterable(c.collect() for c in self._collectors)
        families = itertools.chain(own, *scraped)
        return await asyncio.get_running_loop().run_in_executor(None, _answer, families, request)

    async def _probe(self, request: web.BaseRequest) -> web.Response:
        params = {name: request.query.getall(name)[-1] for name in request.query}
        # Without a module, the first one registered (as with blackbox_exporter's default).
        name = params.get("module") or next(iter(self._modules), "")
        module = self._modules.get(name)
        if module is None:
            known = ", ".join(sorted(self._modules)) or "none"
            raise BadRequest(f"unknown module {name!r} (known: {known})")
        return _answer(await module.probe(params, _scrape_timeout(request)), request)

    def _count(self, connection: web.RequestHandler, change: int) -> None:
        if connection in self._in_flight:
            self._in_flight[connection] += change

    def opened(self, connection: _Connection, transport: asyncio.BaseTransport) -> None:
        if not self._web_config.admits(transport.get_extra_info("peercert")):
            peer = transport.get_extra_info("peername") or ("a client",)
            log.warning("client certificate of %s names none of client_allowed_sans", peer[0])
            transport.close()
            return
        self._in_flight[connection] = 0
        if len(self._in_flight) > self._limit:
            idle = next((c for c, busy in self._in_flight.items() if not busy), connection)
            log.debug("%d connections open: closing the longest-open idle one", self._limit)
            idle.force_close()

    def closed(self, connection: _Connection) -> None:
        self._in_flight.pop(connection, None)

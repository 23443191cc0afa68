"""One HTTPS request to an EcoFlow API: the app login's and the Open API's one client.

The APIs are called seldom (a login, a certification, a device's quota map a minute) and
from the threads of the MQTT supervisor and the quota poller, never from the exporter's
event loop. So each call runs aiohttp on an event loop of its own for its duration
(``asyncio.run``) and opens one connection: nothing is shared between threads, and a
stalled API holds up only the thread that asked. Every call ends within ``timeout``
seconds, redirects included. Failures below HTTP raise :class:`HttpsError` with a short
reason that quotes nothing of the request (no header, no body).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10


class HttpsError(Exception):
    """The request got no HTTP answer: network, TLS, timeout, or a refused redirect."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    location: str  # the Location header, "" without one
    body: bytes  # at most the ``max_bytes`` asked for


def fetch(
    request: Request,
    *,
    context: ssl.SSLContext,
    timeout: float,
    max_bytes: int,
    same_origin_redirects: bool = False,
) -> Answer:
    """Send ``request`` and return the answer, whatever its status.

    With ``same_origin_redirects`` a redirect is followed within the request's scheme, host
    and port, and one elsewhere raises HttpsError: headers such as ``Authorization`` never
    travel to another host or over plain http. Without it a redirect is an answer too.
    """
    exchange = _exchange(request, context, timeout, max_bytes, same_origin_redirects)
    try:
        return asyncio.run(exchange)
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        raise HttpsError(_reason(exc, timeout)) from None


async def _exchange(
    request: Request, context: ssl.SSLContext, timeout: float, max_bytes: int, follow: bool
) -> Answer:
    async with asyncio.timeout(timeout), aiohttp.ClientSession() as session:
        for _ in range(_MAX_REDIRECTS + 1):
            answer = await _send(session, request, context, max_bytes)
            if not (follow and answer.status in _REDIRECTS and answer.location):
                return answer
            request = _redirected(request, answer)
    raise HttpsError(f"more than {_MAX_REDIRECTS} redirects")


async def _send(
    session: aiohttp.ClientSession, request: Request, context: ssl.SSLContext, max_bytes: int
) -> Answer:
    async with session.request(
        request.method,
        request.url,
        headers=dict(request.headers),
        data=request.body,
        ssl=context,
        allow_redirects=False,
    ) as response:
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) >= max_bytes:
                break
        return Answer(
            response.status, response.headers.get("Location", ""), bytes(body[:max_bytes])
        )


def json_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object an answer's body holds; None when it holds anything else."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _redirected(request: Request, answer: Answer) -> Request:
    """The request a redirect asks for, if it stays within the origin."""
    url = urljoin(request.url, answer.location)
    if _origin(url) != _origin(request.url):
        raise HttpsError(f"refused a redirect (HTTP {answer.status}) to another origin")
    if answer.status == 303 or (answer.status in (301, 302) and request.method == "POST"):
        return Request("GET", url, request.headers)  # as browsers do: the body stays behind
    return replace(request, url=url)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    split = urlsplit(url)
    scheme = split.scheme.lower()
    return scheme, split.hostname, split.port or (443 if scheme == "https" else 80)


def _reason(exc: BaseException, timeout: float) -> str:
    """A short reason for a request that got no answer."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        return f"TLS certificate not trusted: {getattr(error, 'verify_message', None) or error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused (is api_url right?)"
        return f"cannot connect to {exc.host}:{exc.port}: {exc.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"not a usable URL: {exc}"
    return str(exc) or type(exc).__name__

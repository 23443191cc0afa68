"""One HTTPS request to an EcoFlow API: the app login's and the Open API's one client.

The APIs are called seldom (a login, a certification, a device's quota map a minute) and
from the threads of the MQTT supervisor and the quota poller, never from the exporter's
event loop. So each call runs aiohttp on an event loop of its own for its duration
(``asyncio.run``) and opens one connection: nothing is shared between threads, and a
stalled API holds up only the thread that asked. Every call ends within ``timeout``
seconds, redirects included. Failures below HTTP raise :class:`ApiError` with a short
reason that quotes nothing of the request (no header, no body).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from exporter.config import scrub

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: The most bytes of an answer that are read; the rest is cut off.
_MAX_ANSWER = 4_000_000
#: Messages are cut to this length, after the secrets are scrubbed out of them.
MAX_MESSAGE = 200


class ApiError(Exception):
    """A failed call to an EcoFlow API.

    ``permanent`` means retrying soon will not help (wrong password, key or region, a model
    the API does not serve). ``code`` is the API's error code, or "" when the call failed
    below the API (HTTP, network).
    """

    def __init__(self, message: str, permanent: bool, code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


def fetch(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    *,
    where: str,
    secrets: Iterable[str],
    ca_file: Path | None,
    timeout: float,
    same_origin_redirects: bool = False,
) -> tuple[int, str, bytes]:
    """Send a request and return the answer, whatever its status: the status, the Location
    header ("" without one) and the body (cut off after 4 MB).

    With ``same_origin_redirects`` a redirect is followed within the request's scheme, host
    and port, and one elsewhere is refused: headers such as ``Authorization`` never travel
    to another host or over plain http. Without it a redirect is an answer too. When no
    answer comes, the ApiError names ``where`` and none of ``secrets``.
    """
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except OSError as exc:  # also ssl.SSLError
        raise ApiError(f"{where}: cannot load ca_file: {exc}", True) from None

    async def exchange() -> tuple[int, str, bytes]:
        middlewares = (_refuse_other_origins,) if same_origin_redirects else ()
        async with (
            asyncio.timeout(timeout),
            aiohttp.ClientSession(middlewares=middlewares) as session,
            session.request(
                method,
                url,
                headers=headers,
                data=body,
                ssl=context,
                allow_redirects=same_origin_redirects,
            ) as response,
        ):
            try:
                content = await response.content.readexactly(_MAX_ANSWER)
            except asyncio.IncompleteReadError as short:  # the usual case: a shorter answer
                content = short.partial
            return response.status, response.headers.get("Location", ""), content

    try:
        return asyncio.run(exchange())
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        message = scrub(f"{where}: {_reason(exc, timeout)}", secrets)
        raise ApiError(message[:MAX_MESSAGE], False) from None


async def _refuse_other_origins(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Lets aiohttp follow a redirect only within the request's origin."""
    response = await handler(request)
    target = request.url.join(URL(response.headers.get("Location", "")))
    if response.status in _REDIRECTS and target.origin() != request.url.origin():
        response.close()
        raise aiohttp.ClientError(f"refused a redirect (HTTP {response.status}) to another origin")
    return response


def json_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object an answer's body holds; None when it holds anything else."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def answer_text(data: Mapping[str, Any], key: str, where: str) -> str:
    """The text (or whole number) an answer holds under ``key``; ApiError when there is none."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ApiError(f"{where}: the answer has no {key}", False)
    return value


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

"""EcoFlow developer ("Open") API over HTTPS, read-only: broker credentials, devices, quotas.

Every request is signed with the access key and secret key from EcoFlow's developer portal:
HMAC-SHA256 over the flattened, sorted parameters followed by the access key, a nonce and a
timestamp. Neither key ever appears in an error message: text taken from an answer is
scrubbed of every form of them (plain, base64, URL-encoded) before it is shortened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from exporter.config import Secret, join_address, scrub
from exporter.powerocean.config import DEFAULT_OPEN_API
from exporter.powerocean.https import HttpsError, Request, fetch, json_object

CERTIFICATION_PATH = "/iot-open/sign/certification"
DEVICE_LIST_PATH = "/iot-open/sign/device/list"
QUOTA_ALL_PATH = "/iot-open/sign/device/quota/all"

T = TypeVar("T")

_MAX_ANSWER_BYTES = 4_000_000
_MAX_TEXT = 200
_BROKER_PROTOCOLS = {"mqtts": True, "mqtt": False}

#: code -> (message, permanent). 8521 is also seen now and then with a right key, so it is retried.
_KNOWN_CODES: dict[str, tuple[str, bool]] = {
    "8513": ("wrong region or key (accessKey is invalid): check api_url and the keys", True),
    "8521": ("signature is wrong: check the secret key", False),
    "1006": ("this model is not served by the Open API; use login mode", True),
}


class OpenApiError(Exception):
    """A failed Open API call.

    ``permanent`` means retrying soon will not help (wrong key or region, model not served).
    ``code`` is the API's error code, or "" when the call failed below the API (HTTP, network).
    """

    def __init__(self, message: str, permanent: bool, code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class OpenApiCredentials:
    """The MQTT broker and account the certification endpoint hands out."""

    account: str
    password: Secret
    host: str
    port: int
    tls: bool

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{join_address(self.host, self.port)}"


@dataclass(frozen=True)
class DeviceInfo:
    serial: str
    name: str
    online: bool
    product: str


def flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters as ``(key, value)`` pairs: ``a.b`` for objects, ``a[0]`` for lists."""
    return [pair for key, value in params.items() for pair in _flatten(str(key), value)]


def _flatten(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for child, item in value.items():
            yield from _flatten(f"{key}.{child}", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _flatten(f"{key}[{index}]", item)
    elif value is None or isinstance(value, bool):
        yield key, json.dumps(value)  # signed as JSON writes them: true, false, null
    else:
        yield key, str(value)


def sign_string(
    params: Mapping[str, Any], access_key: str, nonce: str | int, timestamp: str | int
) -> str:
    """The text that is signed: sorted ``k=v`` pairs, then access key, nonce and timestamp."""
    pairs = [f"{key}={value}" for key, value in sorted(flatten(params), key=lambda p: p[0])]
    auth = [f"accessKey={access_key.strip()}", f"nonce={nonce}", f"timestamp={timestamp}"]
    return "&".join(pairs + auth)


def signature(
    params: Mapping[str, Any],
    access_key: str,
    secret_key: str,
    nonce: str | int,
    timestamp: str | int,
) -> str:
    """HMAC-SHA256 of :func:`sign_string` with the secret key, as lower-case hex."""
    message = sign_string(params, access_key, nonce, timestamp)
    return hmac.new(secret_key.strip().encode(), message.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """A random 6-digit number, as the API documents it."""
    return str(100_000 + secrets.randbelow(900_000))


class OpenApiClient:
    """Signed GET requests to the Open API at ``api_url`` (https only).

    Each call opens one connection and ends within ``timeout`` seconds, and follows no
    redirect: a 3xx answer is an error, so a request never leaves the API's origin
    or falls back to plain HTTP. ``clock`` (epoch seconds) and ``nonce`` are for tests.
    """

    def __init__(
        self,
        api_url: str,
        access_key: str,
        secret_key: Secret | str,
        *,
        timeout: float,
        ca_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        self._base_url = _base_url(api_url)
        self._access_key = access_key.strip()
        secret = secret_key if isinstance(secret_key, str) else secret_key.reveal()
        self._secret_key = secret.strip()
        if not self._access_key or not self._secret_key:
            raise ValueError("the access key and the secret key must not be empty")
        self._timeout = timeout
        try:
            self._context = ssl.create_default_context(cafile=ca_file)
        except OSError as exc:  # also ssl.SSLError
            raise OpenApiError(f"EcoFlow Open API: cannot load ca_file: {exc}", True) from None
        self._clock = clock
        self._nonce = nonce
        self._keys = (self._access_key, self._secret_key)

    def certification(self) -> OpenApiCredentials:
        """The MQTT broker credentials for this key pair."""
        data = self._get(CERTIFICATION_PATH, {}, "certification", dict, "data")
        return _credentials(data, "certification")

    def device_list(self) -> list[DeviceInfo]:
        """The account's own devices (shared ones are not listed)."""
        data = self._get(DEVICE_LIST_PATH, {}, "device list", list, "device list")
        return [device for device in map(_device, data) if device is not None]

    def quota_all(self, serial: str) -> dict[str, Any]:
        """All quota values of one device, the ``data`` map as the API sends it."""
        return self._get(QUOTA_ALL_PATH, {"sn": serial}, f"quota of {serial}", dict, "quota map")

    def _get(
        self, path: str, params: dict[str, str], step: str, data_type: type[T], what: str
    ) -> T:
        """Send a signed GET; return the answer's ``data``, ``what`` the ``step`` asked for, if
        it is a ``data_type``; raise OpenApiError otherwise."""
        url = self._base_url + path + (f"?{urlencode(params)}" if params else "")
        request = Request("GET", url, self._signed_headers(params))
        try:
            answer = fetch(
                request, context=self._context, timeout=self._timeout, max_bytes=_MAX_ANSWER_BYTES
            )
        except HttpsError as exc:  # network failures are transient
            raise OpenApiError(f"EcoFlow Open API {step}: {self._clean(exc)}", False) from None
        if 300 <= answer.status < 400:
            where = f" to {self._clean(answer.location)}" if answer.location else ""
            raise OpenApiError(
                f"EcoFlow Open API {step}: redirected (HTTP {answer.status}{where}), "
                "which is not followed: check api_url",
                False,
            )
        data = self._data(answer.status, answer.body, step)
        if not isinstance(data, data_type):
            raise OpenApiError(f"EcoFlow Open API {step}: the answer has no {what}", False)
        return data

    def _signed_headers(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Headers for one request: a new nonce and timestamp each time. No Content-Type."""
        nonce = str(self._nonce())
        timestamp = str(int(self._clock() * 1000))
        sign = signature(params, self._access_key, self._secret_key, nonce, timestamp)
        return {"accessKey": self._access_key, "nonce": nonce, "timestamp": timestamp, "sign": sign}

    def _data(self, status: int, raw: bytes, step: str) -> Any:
        """The ``data`` of an answer whose ``code`` is "0"; every other answer raises."""
        answer = json_object(raw) or {}
        code = str(answer["code"]) if "code" in answer else None
        where = f"EcoFlow Open API {step}"
        if code in _KNOWN_CODES:
            message, permanent = _KNOWN_CODES[code]
            raise OpenApiError(f"{where}: {message}", permanent, code)
        if code not in (None, "0"):
            code, text = self._clean(code), self._clean(answer.get("message", ""))
            raise OpenApiError(f"{where} rejected: code {code}: {text}", False, code)
        if status != 200:
            raise OpenApiError(f"{where}: HTTP {status}", False)
        if code is None:
            raise OpenApiError(f"{where}: the answer is not the API's JSON", False)
        return answer.get("data")

    def _clean(self, text: Any) -> str:
        """Text from an answer, fit for a message: keys blanked first, then shortened."""
        return scrub(str(text), self._keys)[:_MAX_TEXT]


def _base_url(api_url: str) -> str:
    """``api_url`` without a trailing slash, if it is an https URL; else a configuration error."""
    split = urlsplit(api_url.strip())
    if split.scheme != "https" or not split.hostname or split.query or split.fragment:
        raise ValueError("api_url must be an https URL such as " + DEFAULT_OPEN_API)
    if split.username or split.password:
        raise ValueError("api_url must not carry a user or password")
    return api_url.strip().rstrip("/")


def _credentials(data: dict[str, Any], step: str) -> OpenApiCredentials:
    tls = _BROKER_PROTOCOLS.get(str(data.get("protocol")))
    port = str(data.get("port"))
    if tls is None or not port.isdigit() or not 0 < int(port) < 65536:
        raise OpenApiError(f"EcoFlow Open API {step}: unusable broker address in the answer", False)
    return OpenApiCredentials(
        account=_text(data, "certificateAccount", step),
        password=Secret(_text(data, "certificatePassword", step)),
        host=_text(data, "url", step),
        port=int(port),
        tls=tls,
    )


def _text(data: dict[str, Any], key: str, step: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise OpenApiError(f"EcoFlow Open API {step}: the answer has no {key}", False)
    return value


def _device(entry: Any) -> DeviceInfo | None:
    """One entry of the device list; entries without a serial are skipped."""
    if not isinstance(entry, dict) or not isinstance(entry.get("sn"), str) or not entry["sn"]:
        return None
    return DeviceInfo(
        serial=entry["sn"],
        name=str(entry.get("deviceName") or ""),
        online=str(entry.get("online")).lower() in ("1", "true"),
        product=str(entry.get("productName") or ""),
    )

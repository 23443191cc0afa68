"""A local HTTPS stand-in for the EcoFlow developer (Open) API, and a server that never answers.

Not a test module. ``FakeOpenApi`` checks every request's signature as the API documents it
(headers ``accessKey``, ``nonce``, ``timestamp``, ``sign``; HMAC-SHA256 of the sorted query
pairs followed by ``accessKey=..&nonce=..&timestamp=..``) and answers with the API's envelope:
``{"code": "0", "message": "Success", "data": ...}``, ``code`` a string.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import trustme
from google.protobuf.message import Message

from exporter.powerocean.channels import PowerOceanMapping
from exporter.simulate.powerocean import quota_maps
from tests.support.https_fake import JsonHttpsServer, Reply
from tests.support.mosquitto import HOST

CERTIFICATION_PATH = "/iot-open/sign/certification"
DEVICE_LIST_PATH = "/iot-open/sign/device/list"
QUOTA_ALL_PATH = "/iot-open/sign/device/quota/all"

WRONG_KEY = ("8513", "accessKey is invalid")
WRONG_SIGN = ("8521", "signature is wrong")
NOT_SERVED = ("1006", "current device is not allowed to get device info")

Answer = tuple[int, dict[str, Any]]

#: Enum keys quota/all sends as state names, and the prefix of those names.
HTTP_STATE_PREFIXES = {
    "ems_change_report.pcsRunSta": "RUNSTA_",
    "ems_change_report.emsWordMode": "WORKMODE_",
}


def device(serial: str, name: str = "", online: bool = True, product: str = "PowerOcean") -> dict:
    """One entry of the device list, as the API sends it."""
    return {
        "sn": serial,
        "deviceName": name or serial,
        "online": int(online),
        "productName": product,
    }


def quota_all(mapping: PowerOceanMapping, messages: Mapping[str, Message]) -> dict[str, Any]:
    """The API's quota/all map of ``messages``: some states as text, one JSON text per pack
    under ``pack_prefix`` and its serial."""
    quotas: dict[str, Any] = {}
    for (_, pack), values in quota_maps(mapping, messages).items():
        if pack:
            quotas[mapping.open_api.pack_prefix + pack] = json.dumps(values)
        else:
            quotas.update(values)
    for channel in mapping.channels:
        key = channel.location.quota
        if key in HTTP_STATE_PREFIXES and not channel.variant and quotas.get(key) in channel.states:
            quotas[key] = HTTP_STATE_PREFIXES[key] + channel.states[quotas[key]]
    return quotas


class FakeOpenApi(JsonHttpsServer):
    """Serves ``devices`` and ``quotas`` (serial -> data map) to the ``access_key`` pair.

    Unknown access key -> 8513, wrong signature (or a Content-Type on a GET) -> 8521, a serial
    in ``not_served`` or not in ``quotas`` -> 1006. The certification hands out
    ``broker_host``/``broker_port`` with ``certificate_account``/``certificate_password``.
    ``calls`` counts requests per path, ``rejections`` answers per error code. Setting
    ``error_status`` makes every answer that HTTP error; ``fail_next`` (codes, or (code,
    message) pairs) answers the next requests with those whatever they ask; ``redirect_to``
    answers every request with a 302 there, ``raw_answer`` (status, body) with that.
    ``max_skew`` (seconds) bounds how far a timestamp may be from now (None: any).
    """

    def __init__(
        self,
        directory: Path,
        *,
        access_key: str,
        secret_key: str,
        ca: trustme.CA | None = None,
        broker_host: str = HOST,
        broker_port: int = 8883,
        protocol: str = "mqtts",
        certificate_account: str = "open-0000000000000001",
        certificate_password: str = "open-mqtt-Pa55",
        devices: Sequence[Mapping[str, Any]] = (),
        quotas: Mapping[str, Mapping[str, Any]] | None = None,
        not_served: Iterable[str] = (),
        max_skew: float | None = 600.0,
    ) -> None:
        super().__init__(directory, ca)
        self.access_key = access_key
        self.secret_key = secret_key
        self.broker_host = broker_host
        self.broker_port = broker_port
        self.protocol = protocol
        self.certificate_account = certificate_account
        self.certificate_password = certificate_password
        self.devices: list[dict[str, Any]] = [dict(entry) for entry in devices]
        self._quotas = {serial: dict(data) for serial, data in (quotas or {}).items()}
        self.not_served = set(not_served)
        self.max_skew = max_skew
        self.error_status: int | None = None
        self.fail_next: list[str | tuple[str, str]] = []
        self.redirect_to: str | None = None
        self.raw_answer: tuple[int, bytes] | None = None
        self.calls: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self._lock = threading.Lock()

    def set_quota(self, serial: str, data: Mapping[str, Any]) -> None:
        """Replace a device's quota map (also while running)."""
        with self._lock:
            self._quotas[serial] = dict(data)

    def update_quota(self, serial: str, **values: Any) -> None:
        """Change some values of a device's quota map, keeping the others."""
        with self._lock:
            self._quotas.setdefault(serial, {}).update(values)

    def quota(self, serial: str) -> dict[str, Any] | None:
        with self._lock:
            data = self._quotas.get(serial)
            return dict(data) if data is not None else None

    def reply(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        split = urlsplit(target)
        with self._lock:
            self.calls[split.path] += 1
            forced = self.fail_next.pop(0) if self.fail_next else None
        if self.redirect_to is not None:
            return 302, {"code": "302", "message": "moved"}, {"Location": self.redirect_to}
        if self.raw_answer is not None:
            return *self.raw_answer, {}
        status, answer = self._answer(method, split.path, split.query, headers, forced)
        return status, answer, {}

    def _answer(
        self, method: str, path: str, query: str, headers: Any, forced: str | tuple[str, str] | None
    ) -> Answer:
        if self.error_status is not None:
            return self.error_status, {"code": str(self.error_status), "message": "unavailable"}
        if forced is not None:
            return self._reject(forced if isinstance(forced, tuple) else (forced, "failing"))
        if method != "GET":
            return 405, {"code": "405", "message": "method not allowed"}
        return self._signed(path, query, headers)

    def _signed(self, path: str, query: str, headers: Any) -> Answer:
        """Check the key and signature, then answer for ``path``."""
        if headers.get("accessKey") != self.access_key:
            return self._reject(WRONG_KEY)
        pairs = parse_qsl(query, keep_blank_values=True)
        if headers.get("Content-Type") is not None or not self._sign_ok(pairs, headers):
            return self._reject(WRONG_SIGN)
        params = dict(pairs)
        if path == CERTIFICATION_PATH:
            return self._ok(self._certification())
        if path == DEVICE_LIST_PATH:
            return self._ok([dict(entry) for entry in self.devices])
        if path == QUOTA_ALL_PATH:
            return self._quota_all(params.get("sn", ""))
        return 404, {"code": "404", "message": "not found"}

    def _sign_ok(self, pairs: list[tuple[str, str]], headers: Any) -> bool:
        nonce, timestamp, sign = (headers.get(name) for name in ("nonce", "timestamp", "sign"))
        if not (nonce and timestamp and sign and nonce.isdigit() and len(nonce) == 6):
            return False
        if not timestamp.isdigit() or not self._fresh(int(timestamp) / 1000):
            return False
        if len({key for key, _ in pairs}) != len(pairs):
            return False
        signed = [f"{key}={value}" for key, value in sorted(pairs)]
        signed.append(f"accessKey={self.access_key}&nonce={nonce}&timestamp={timestamp}")
        text = "&".join(signed).encode()
        expected = hmac.new(self.secret_key.encode(), text, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, sign)

    def _fresh(self, timestamp: float) -> bool:
        return self.max_skew is None or abs(time.time() - timestamp) <= self.max_skew

    def _certification(self) -> dict[str, Any]:
        return {
            "certificateAccount": self.certificate_account,
            "certificatePassword": self.certificate_password,
            "url": self.broker_host,
            "port": str(self.broker_port),
            "protocol": self.protocol,
        }

    def _quota_all(self, serial: str) -> Answer:
        data = self.quota(serial)
        if data is None or serial in self.not_served:
            return self._reject(NOT_SERVED)
        return self._ok(data)

    def _reject(self, error: tuple[str, str]) -> Answer:
        code, message = error
        with self._lock:
            self.rejections[code] += 1
        return 200, {"code": code, "message": message, "data": None}

    @staticmethod
    def _ok(data: Any) -> Answer:
        trace = secrets.token_hex(8)
        return 200, {"code": "0", "message": "Success", "data": data, "tid": trace}


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (not even the TLS handshake)."""

    def __init__(self) -> None:
        self._socket = socket.create_server((HOST, 0))
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self._socket.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() on Linux
        self._socket.close()
        for connection in self._accepted:
            connection.close()
        self._thread.join(timeout=5)

"""A local HTTPS stand-in for the EcoFlow app API (login and MQTT certification).

Not a test module. It answers like the documented API: JSON with ``code`` ("0" on success),
``message`` and ``data``, and counts the calls per path.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

from tests.support.https_fake import JsonHttpsServer, Reply
from tests.support.mosquitto import HOST

LOGIN_PATH = "/auth/login"
CERTIFICATION_PATH = "/iot-auth/app/certification"


class FakeEcoFlowApi(JsonHttpsServer):
    """Accepts ``email``/``password`` and hands out broker credentials for ``broker_port``.

    ``certificate_passwords`` are handed out in turn (the last one repeats), so a test can
    give out a stale one first. Setting ``error_status`` makes every answer that HTTP error;
    ``redirects`` maps a path to the ``Location`` of a 302 answer, ``answers`` a path to the
    answer it gets instead of the API's (a 200 with that JSON object or those bytes).
    """

    def __init__(
        self,
        directory: Path,
        *,
        email: str,
        password: str,
        broker_port: int,
        protocol: str = "mqtt",
        ca: trustme.CA | None = None,
        certificate_account: str = "app-user",
        certificate_passwords: Sequence[str] = ("mqtt-secret",),
        user_id: str = "1700000000000000001",
    ) -> None:
        super().__init__(directory, ca)
        self.email = email
        self.password = password
        self.broker_port = broker_port
        self.protocol = protocol
        self.certificate_account = certificate_account
        self.certificate_passwords = list(certificate_passwords)
        self.user_id = user_id
        self.token = secrets.token_hex(16)
        self.error_status: int | None = None
        self.redirects: dict[str, str] = {}
        self.answers: dict[str, dict[str, Any] | bytes] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._certifications = 0

    def reply(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        path = urlsplit(target).path
        location = self.redirects.get(path)
        if location is not None:
            return 302, {}, {"Location": location}
        status, answer = self.answer(method, target, headers, body)
        return (200, self.answers[path], {}) if path in self.answers else (status, answer, {})

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict]:
        """(HTTP status, JSON answer) for one request."""
        split = urlsplit(path)
        with self._lock:
            self.calls[split.path] += 1
        if self.error_status is not None:
            return self.error_status, {"code": str(self.error_status), "message": "unavailable"}
        if (method, split.path) == ("POST", LOGIN_PATH):
            return self._login(body)
        if (method, split.path) == ("GET", CERTIFICATION_PATH):
            return self._certification(headers, parse_qs(split.query))
        return 404, {"code": "404", "message": "not found"}

    def _login(self, body: bytes) -> tuple[int, dict]:
        try:
            request = json.loads(body)
            password = base64.b64decode(request["password"], validate=True).decode()
        except (ValueError, KeyError, TypeError, binascii.Error):
            return 400, {"code": "400", "message": "bad request"}
        if set(request) != {"email", "password", "scene", "userType"} or (
            request["scene"],
            request["userType"],
        ) != ("IOT_APP", "ECOFLOW"):
            return 400, {"code": "400", "message": "bad request"}
        if request["email"] != self.email or password != self.password:
            return 200, {"code": "1002", "message": "wrong password"}
        user = {"userId": self.user_id, "email": self.email}
        return 200, {"code": "0", "message": "Success", "data": {"token": self.token, "user": user}}

    def _certification(self, headers: Any, query: dict[str, list[str]]) -> tuple[int, dict]:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"code": "401", "message": "token invalid"}
        if query.get("userId") != [self.user_id]:
            return 200, {"code": "1006", "message": "wrong user"}
        with self._lock:
            index = min(self._certifications, len(self.certificate_passwords) - 1)
            self._certifications += 1
        data = {
            "url": HOST,
            "port": str(self.broker_port),
            "protocol": self.protocol,
            "certificateAccount": self.certificate_account,
            "certificatePassword": self.certificate_passwords[index],
        }
        return 200, {"code": "0", "message": "Success", "data": data}

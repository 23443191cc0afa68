"""EcoFlow app login: trade the account's e-mail and password for MQTT broker credentials.

This is what the EcoFlow app does (``/auth/login``, then ``/iot-auth/app/certification``).
Error messages carry the API's code and message text, never the password, the token or
the certificate password.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from exporter.config import Secret, scrub
from exporter.powerocean.config import LoginConfig
from exporter.powerocean.https import MAX_MESSAGE, ApiError, answer_text, fetch, json_object

_RETRYABLE_CLIENT_ERRORS = (408, 429)


@dataclass(frozen=True)
class BrokerCredentials:
    """Where and as whom to connect to an MQTT broker for one session."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: Secret | None
    client_id: str
    user_id: str  # goes into the topics
    ca_file: Path | None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def certified_broker(
    data: dict[str, Any], where: str, client_id: str, user_id: str, ca_file: Path | None
) -> BrokerCredentials:
    """The broker a certification answer names; the app's and the Open API's are alike."""
    protocol, port = data.get("protocol"), str(data.get("port"))
    if protocol not in ("mqtt", "mqtts") or not port.isdigit() or not 0 < int(port) < 65536:
        raise ApiError(f"{where}: unusable broker address in the answer", False)
    return BrokerCredentials(
        host=answer_text(data, "url", where),
        port=int(port),
        tls=protocol == "mqtts",
        username=answer_text(data, "certificateAccount", where),
        password=Secret(answer_text(data, "certificatePassword", where)),
        client_id=client_id,
        user_id=user_id,
        ca_file=ca_file,
    )


def login(config: LoginConfig, timeout: float) -> BrokerCredentials:
    """Log in and fetch the MQTT credentials; every HTTP call is bounded by ``timeout``."""
    password = config.password.reveal()
    body = {
        "email": config.email,
        "password": base64.b64encode(password.encode()).decode("ascii"),
        "scene": "IOT_APP",
        "userType": "ECOFLOW",
    }
    secrets = [password]
    headers = {"Content-Type": "application/json"}
    request = json.dumps(body).encode()
    data = _call(config, timeout, "login", "/auth/login", headers, request, secrets)
    token = answer_text(data, "token", "EcoFlow login")
    secrets.append(token)
    user = data.get("user")
    user_id = answer_text(user if isinstance(user, dict) else {}, "userId", "EcoFlow login")

    path = f"/iot-auth/app/certification?{urlencode({'userId': user_id})}"
    headers = {"authorization": f"Bearer {token}"}
    data = _call(config, timeout, "certification", path, headers, None, secrets)
    client_id = f"ANDROID_{uuid.uuid4()}_{user_id}"
    return certified_broker(data, "EcoFlow certification", client_id, user_id, config.ca_file)


def _call(
    config: LoginConfig,
    timeout: float,
    step: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    secrets: list[str],
) -> dict[str, Any]:
    """POST ``body`` to ``path``, or GET it without one; return the answer's ``data`` or raise
    ApiError. A redirect is followed only within the API's origin: the token never leaves it.
    """
    status, _, answer = fetch(
        "GET" if body is None else "POST",
        config.api_url + path,
        {**headers, "Accept": "application/json"},
        body,
        where=f"EcoFlow {step}",
        secrets=secrets,
        ca_file=config.ca_file,
        timeout=timeout,
        same_origin_redirects=True,
    )
    parsed = json_object(answer)
    shown = parsed or {}
    detail = ""  # the API's code and message, when it sent them
    if "code" in shown or "message" in shown:
        text = f": code {shown.get('code')}: {shown.get('message', '')}"
        detail = scrub(text, secrets)[:MAX_MESSAGE]
    if not 200 <= status < 300:
        permanent = 400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
        raise ApiError(f"EcoFlow {step}: HTTP {status}{detail}", permanent)
    if parsed is None:
        raise ApiError(f"EcoFlow {step}: the answer is not a JSON object", False)
    if str(parsed.get("code")) != "0":
        # A rejected login is a wrong e-mail or password: retrying soon will not help.
        raise ApiError(f"EcoFlow {step} rejected{detail}", permanent=step == "login")
    data = parsed.get("data")
    if not isinstance(data, dict):
        raise ApiError(f"EcoFlow {step}: the answer has no data", False)
    return data

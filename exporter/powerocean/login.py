"""EcoFlow app login: trade the account's e-mail and password for MQTT broker credentials.

This is what the EcoFlow app does (``/auth/login``, then ``/iot-auth/app/certification``).
Error messages carry the API's code and message text, never the password, the token or
the certificate password.
"""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from exporter.config import Secret, join_address, scrub
from exporter.powerocean.config import LoginConfig
from exporter.powerocean.https import HttpsError, Request, fetch, json_object

_MAX_ANSWER_BYTES = 1_000_000
_MAX_API_MESSAGE = 200
_RETRYABLE_CLIENT_ERRORS = (408, 429)


class LoginError(Exception):
    """The login failed; ``permanent`` means retrying soon will not help (wrong password)."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class BrokerCredentials:
    url: str  # mqtts://host:8883 or mqtt://host:1883
    username: str
    password: Secret
    user_id: str
    client_id: str


def login(config: LoginConfig, timeout: float) -> BrokerCredentials:
    """Log in and fetch the MQTT credentials; every HTTP call is bounded by ``timeout``."""
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except OSError as exc:  # also ssl.SSLError
        raise LoginError(f"EcoFlow login: cannot load ca_file: {exc}", True) from None
    password = config.password.reveal()
    body = {
        "email": config.email,
        "password": base64.b64encode(password.encode()).decode("ascii"),
        "scene": "IOT_APP",
        "userType": "ECOFLOW",
    }
    request = Request(
        "POST",
        f"{config.api_url}/auth/login",
        {"Content-Type": "application/json", "Accept": "application/json"},
        json.dumps(body).encode(),
    )
    secrets = [password]
    data = _call(request, context, timeout, "login", secrets, rejection_is_permanent=True)
    token = _text(data, "token", "login")
    secrets.append(token)
    user = data.get("user")
    user_id = _text(user if isinstance(user, dict) else {}, "userId", "login")

    query = urlencode({"userId": user_id})
    request = Request(
        "GET",
        f"{config.api_url}/iot-auth/app/certification?{query}",
        {"authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    data = _call(request, context, timeout, "certification", secrets)
    host = _text(data, "url", "certification")
    protocol = _text(data, "protocol", "certification")
    port = data.get("port")
    if protocol not in ("mqtt", "mqtts") or not str(port).isdigit():
        raise LoginError("EcoFlow certification: unusable broker address in the answer", False)
    return BrokerCredentials(
        url=f"{protocol}://{join_address(host, int(str(port)))}",
        username=_text(data, "certificateAccount", "certification"),
        password=Secret(_text(data, "certificatePassword", "certification")),
        user_id=user_id,
        client_id=f"ANDROID_{uuid.uuid4()}_{user_id}",
    )


def _call(
    request: Request,
    context: ssl.SSLContext,
    timeout: float,
    step: str,
    secrets: list[str],
    *,
    rejection_is_permanent: bool = False,
) -> dict[str, Any]:
    """Send ``request``; return the answer's ``data`` or raise LoginError.

    A redirect is followed only within the API's origin: the token never leaves it.
    """
    try:
        answer = fetch(
            request,
            context=context,
            timeout=timeout,
            max_bytes=_MAX_ANSWER_BYTES,
            same_origin_redirects=True,
        )
    except HttpsError as exc:
        message = scrub(f"EcoFlow {step}: {exc}", secrets)
        raise LoginError(message[:_MAX_API_MESSAGE], False) from None
    parsed = json_object(answer.body)
    if not 200 <= answer.status < 300:
        permanent = 400 <= answer.status < 500 and answer.status not in _RETRYABLE_CLIENT_ERRORS
        detail = _api_detail(parsed or {}, secrets)
        raise LoginError(f"EcoFlow {step}: HTTP {answer.status}{detail}", permanent)
    if parsed is None:
        raise LoginError(f"EcoFlow {step}: the answer is not a JSON object", False)
    if str(parsed.get("code")) != "0":
        detail = _api_detail(parsed, secrets)
        raise LoginError(f"EcoFlow {step} rejected{detail}", rejection_is_permanent)
    data = parsed.get("data")
    if not isinstance(data, dict):
        raise LoginError(f"EcoFlow {step}: the answer has no data", False)
    return data


def _api_detail(answer: dict[str, Any], secrets: list[str]) -> str:
    if "code" not in answer and "message" not in answer:
        return ""
    detail = scrub(f": code {answer.get('code')}: {answer.get('message', '')}", secrets)
    return detail[:_MAX_API_MESSAGE]


def _text(data: dict[str, Any], key: str, step: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise LoginError(f"EcoFlow {step}: the answer has no {key}", False)
    return value

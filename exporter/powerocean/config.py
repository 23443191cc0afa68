"""The ``powerocean`` section of the configuration: one transport (an MQTT broker, the
EcoFlow app login or the Open API's developer keys), the systems, and their timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from exporter.config import Reader, Secret

DEFAULT_ECOFLOW_API = "https://api.ecoflow.com"
#: The developer (Open) API of EcoFlow's European region; api-a is the Americas'.
DEFAULT_OPEN_API = "https://api-e.ecoflow.com"
#: quota/all is asked at most this often per device (observed limits: 1/10 s, polled 30-60 s).
MIN_POLL_SECONDS = 30.0


@dataclass(frozen=True)
class BrokerConfig:
    url: str
    username: str | None = None
    password: Secret | None = None
    ca_file: Path | None = None


@dataclass(frozen=True)
class LoginConfig:
    email: str
    password: Secret
    api_url: str = DEFAULT_ECOFLOW_API
    ca_file: Path | None = None


@dataclass(frozen=True)
class OpenApiConfig:
    """EcoFlow developer keys: the MQTT quota stream, and quota/all when it is silent."""

    access_key: str
    secret_key: Secret
    api_url: str = DEFAULT_OPEN_API
    ca_file: Path | None = None
    poll_seconds: float = 60.0


@dataclass(frozen=True)
class PowerOceanConfig:
    #: The configured systems: serial -> name (the serial when no name is given).
    devices: Mapping[str, str]
    broker: BrokerConfig | None = None
    login: LoginConfig | None = None
    open_api: OpenApiConfig | None = None
    stale_after_seconds: float = 300.0
    request_all_on_connect: bool = True
    keepalive_seconds: float = 20.0  # 0 switches the energy-stream keepalive off
    timeout_seconds: float = 10.0


def read_powerocean_section(reader: Reader, data: Any) -> PowerOceanConfig:
    section = reader.section(
        data,
        "powerocean",
        (
            "broker",
            "login",
            "open_api",
            "devices",
            "stale_after_seconds",
            "request_all_on_connect",
            "keepalive_seconds",
            "timeout_seconds",
        ),
    )
    broker = login = None
    if "broker" in section:
        b = reader.section(
            section["broker"],
            "powerocean.broker",
            ("url", "username", "password_file", "password_env", "password", "ca_file"),
        )
        url = reader.text(b, "url", "powerocean.broker")
        if url and urlsplit(url).scheme not in ("mqtt", "mqtts"):
            reader.problem("powerocean.broker.url", "must start with mqtt:// or mqtts://")
        reader.no_credentials_in(url, "powerocean.broker.url")
        broker = BrokerConfig(
            url=url,
            username=reader.text(b, "username", "powerocean.broker", required=False) or None,
            password=reader.secret(b, "powerocean.broker", required=False),
            ca_file=reader.file(b, "ca_file", "powerocean.broker") if "ca_file" in b else None,
        )
    if "login" in section:
        lg = reader.section(
            section["login"],
            "powerocean.login",
            ("email", "password_file", "password_env", "password", "api_url", "ca_file"),
        )
        password = reader.secret(lg, "powerocean.login", required=True)
        api_url = lg.get("api_url", DEFAULT_ECOFLOW_API)
        if not isinstance(api_url, str) or urlsplit(api_url).scheme != "https":
            reader.problem("powerocean.login.api_url", "must be an https:// URL")
        reader.no_credentials_in(str(api_url), "powerocean.login.api_url")
        login = LoginConfig(
            email=reader.text(lg, "email", "powerocean.login"),
            password=password or Secret(""),
            api_url=str(api_url).rstrip("/"),
            ca_file=reader.file(lg, "ca_file", "powerocean.login") if "ca_file" in lg else None,
        )
    open_api = _open_api(reader, section["open_api"]) if "open_api" in section else None
    if [broker, login, open_api].count(None) != 2:
        reader.problem("powerocean", "needs exactly one of 'broker', 'login' or 'open_api'")
    if open_api is not None and section.get("devices") is None:
        devices: dict[str, str] = {}  # the account's device list
    else:
        devices = _powerocean_devices(reader, section.get("devices"))
    request_all = section.get("request_all_on_connect", True)
    if not isinstance(request_all, bool):
        reader.problem("powerocean.request_all_on_connect", "must be true or false")
        request_all = True
    return PowerOceanConfig(
        devices=devices,
        broker=broker,
        login=login,
        open_api=open_api,
        stale_after_seconds=reader.number(section, "stale_after_seconds", "powerocean", 300, 1),
        request_all_on_connect=request_all,
        keepalive_seconds=reader.number(section, "keepalive_seconds", "powerocean", 20),
        timeout_seconds=reader.number(section, "timeout_seconds", "powerocean", 10, 0.1),
    )


def _powerocean_devices(reader: Reader, entries: Any) -> dict[str, str]:
    """``devices``: serials, or ``{serial: ..., name: ...}`` entries -> serial -> name."""
    where = "powerocean.devices"
    if not isinstance(entries, list) or not entries:
        reader.problem(where, "must be a non-empty list of serial numbers")
        return {}
    devices: dict[str, str] = {}
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if isinstance(entry, dict):
            entry = reader.section(entry, at, ("serial", "name"))
            serial = reader.text(entry, "serial", at)
            name = reader.text(entry, "name", at, required=False) or serial
        else:
            serial = name = entry if isinstance(entry, str) else ""
        if not serial.strip() or set(serial) & set("/+# "):
            reader.problem(at, f"not a serial number (no / + # or space): {serial!r}")
        elif serial in devices:
            reader.problem(at, f"serial {serial!r} is listed twice")
        else:
            devices[serial] = name
    return devices


def _open_api(reader: Reader, data: Any) -> OpenApiConfig:
    where = "powerocean.open_api"
    keys = ("access_key", "secret_key", "secret_key_file", "secret_key_env", "api_url", "ca_file")
    section = reader.section(data, where, (*keys, "poll_seconds"))
    secret = reader.secret(section, where, required=True, name="secret_key")
    api_url = section.get("api_url", DEFAULT_OPEN_API)
    if not isinstance(api_url, str) or urlsplit(api_url).scheme != "https":
        reader.problem(f"{where}.api_url", "must be an https:// URL")
    else:
        reader.no_credentials_in(api_url, f"{where}.api_url")
    return OpenApiConfig(
        access_key=reader.text(section, "access_key", where).strip(),
        secret_key=secret or Secret(""),
        api_url=str(api_url).rstrip("/"),
        ca_file=reader.file(section, "ca_file", where) if "ca_file" in section else None,
        poll_seconds=reader.number(section, "poll_seconds", where, 60, MIN_POLL_SECONDS),
    )

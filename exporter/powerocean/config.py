"""The ``powerocean`` section of the configuration: one transport (an MQTT broker, the
EcoFlow app login or the Open API's developer keys), the systems, and their timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from exporter.config import Reader, Secret, section_keys

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
    latest_quotas_seconds: float = 30.0  # 0 switches the latestQuotas request off
    #: A system silent this long is asked again; a connection silent twice this long is
    #: made anew. 0 switches both off.
    silent_after_seconds: float = 60.0
    timeout_seconds: float = 10.0


def read_powerocean_section(reader: Reader, data: Any) -> PowerOceanConfig:
    where = "powerocean"
    section = reader.section(data, where, section_keys(PowerOceanConfig))
    broker = _broker(reader, section["broker"]) if "broker" in section else None
    login = _login(reader, section["login"]) if "login" in section else None
    open_api = _open_api(reader, section["open_api"]) if "open_api" in section else None
    if [broker, login, open_api].count(None) != 2:
        reader.problem(where, "needs exactly one of 'broker', 'login' or 'open_api'")
    listed = open_api is not None and section.get("devices") is None  # the account's list
    devices = {} if listed else _powerocean_devices(reader, section.get("devices"))
    return PowerOceanConfig(
        devices=devices,
        broker=broker,
        login=login,
        open_api=open_api,
        stale_after_seconds=reader.number(section, "stale_after_seconds", where, 300, 1),
        request_all_on_connect=reader.flag(section, "request_all_on_connect", where, True),
        keepalive_seconds=reader.number(section, "keepalive_seconds", where, 20),
        latest_quotas_seconds=reader.number(section, "latest_quotas_seconds", where, 30),
        silent_after_seconds=reader.number(section, "silent_after_seconds", where, 60),
        timeout_seconds=reader.number(section, "timeout_seconds", where, 10, 0.1),
    )


def _broker(reader: Reader, data: Any) -> BrokerConfig:
    where = "powerocean.broker"
    section = reader.section(data, where, section_keys(BrokerConfig, secret="password"))
    url = reader.text(section, "url", where)
    if url and urlsplit(url).scheme not in ("mqtt", "mqtts"):
        reader.problem(f"{where}.url", "must start with mqtt:// or mqtts://")
    reader.no_credentials_in(url, f"{where}.url")
    return BrokerConfig(
        url=url,
        username=reader.text(section, "username", where, required=False) or None,
        password=reader.secret(section, where, required=False),
        ca_file=reader.file(section, "ca_file", where),
    )


def _login(reader: Reader, data: Any) -> LoginConfig:
    where = "powerocean.login"
    section = reader.section(data, where, section_keys(LoginConfig, secret="password"))
    return LoginConfig(
        email=reader.text(section, "email", where),
        password=reader.secret(section, where, required=True) or Secret(""),
        api_url=_api_url(reader, section, where, DEFAULT_ECOFLOW_API),
        ca_file=reader.file(section, "ca_file", where),
    )


def _open_api(reader: Reader, data: Any) -> OpenApiConfig:
    where = "powerocean.open_api"
    section = reader.section(data, where, section_keys(OpenApiConfig, secret="secret_key"))
    return OpenApiConfig(
        access_key=reader.text(section, "access_key", where).strip(),
        secret_key=reader.secret(section, where, required=True, name="secret_key") or Secret(""),
        api_url=_api_url(reader, section, where, DEFAULT_OPEN_API),
        ca_file=reader.file(section, "ca_file", where),
        poll_seconds=reader.number(section, "poll_seconds", where, 60, MIN_POLL_SECONDS),
    )


def _api_url(reader: Reader, section: Mapping[str, Any], where: str, default: str) -> str:
    """An EcoFlow API's base URL: https, with a host and no user, password or query."""
    url = str(section.get("api_url", default))
    split = urlsplit(url)
    if split.scheme != "https" or not split.hostname or split.query or split.fragment:
        reader.problem(f"{where}.api_url", "must be an https:// URL")
        return default
    reader.no_credentials_in(url, f"{where}.api_url")
    return url.rstrip("/")


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

"""The exporter's YAML configuration, read into typed objects.

Every problem is reported as ``FILE: KEY: reason``, all of them at once, and no message
ever contains a secret: passwords come from ``*_file`` keys or environment variables
and are held in ``Secret``, whose text form is masked.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import yaml

DEFAULT_MODBUS_PORT = 502
DEFAULT_ECOFLOW_API = "https://api.ecoflow.com"
#: The developer (Open) API of EcoFlow's European region; api-a is the Americas'.
DEFAULT_OPEN_API = "https://api-e.ecoflow.com"
#: quota/all is asked at most this often per device (observed limits: 1/10 s, polled 30-60 s).
MIN_POLL_SECONDS = 30.0


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Secret:
    """A password; ``str()`` and ``repr()`` never show it."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "********"

    def reveal(self) -> str:
        return self.value


#: The shortest piece of a secret that ``scrub`` blanks out wherever it appears.
SCRUB_MIN_CHARS = 8


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret blanked out: whole or any 8+ character part of it, plain,
    base64 (standard or URL-safe) or URL-encoded (also its base64), in any letter case, in
    case the remote side echoes one back. Cut a message only after scrubbing it, so that no
    cut leaves a part behind."""
    covered = [False] * len(text)
    for form in _secret_forms(secrets):
        width = min(len(form), SCRUB_MIN_CHARS)
        for start in range(len(form) - width + 1):
            piece = re.compile(re.escape(form[start : start + width]), re.IGNORECASE)
            for found in piece.finditer(text):
                covered[found.start() : found.end()] = [True] * width
    return "".join(_blanked(text, covered))


def _secret_forms(secrets: Iterable[str]) -> set[str]:
    forms = set()
    for secret in filter(None, secrets):
        raw = secret.encode()
        plain = {
            secret,
            base64.b64encode(raw).decode().rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
        }
        forms |= plain
        for text in plain:
            forms |= {quote(text, safe=""), quote_plus(text, safe="")}
    return forms


def _blanked(text: str, covered: list[bool]) -> Iterator[str]:
    """``text`` with each run of covered characters as one ``***``."""
    for index, char in enumerate(text):
        if not covered[index]:
            yield char
        elif index == 0 or not covered[index - 1]:
            yield "***"


@dataclass(frozen=True)
class RefuTargetConfig:
    name: str
    host: str
    port: int
    unit_id: int
    #: Values of the channels that are configured, not read (alias, capacity, min SoC ...).
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class RefuConfig:
    timeout_seconds: float = 3.0
    max_gap: int = 10
    targets: tuple[RefuTargetConfig, ...] = ()


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


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    refu: RefuConfig = RefuConfig()
    powerocean: PowerOceanConfig | None = None

    @property
    def has_devices(self) -> bool:
        """False when only ``/probe`` and the exporter's own metrics can be served."""
        return bool(self.refu.targets) or self.powerocean is not None


class _Reader:
    """Walks the YAML document, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(f"{self.path}: {key}: {reason}")

    def section(self, data: Any, key: str, allowed: Iterable[str]) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problem(key, "must be a mapping")
            return {}
        for unknown in sorted(set(map(str, data)) - set(allowed)):
            self.problem(f"{key}.{unknown}" if key else unknown, _unknown_key(unknown, allowed))
        return data

    def number(
        self, data: Mapping[str, Any], key: str, where: str, default: float, minimum: float = 0
    ) -> float:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self.problem(f"{where}.{key}", f"must be a number >= {minimum}, got {value!r}")
            return default
        return float(value)

    def whole_number(
        self, data: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(f"{where}.{key}", f"must be a whole number {low}..{high}, got {value!r}")
            return default
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}.{key}", "must be non-empty text")
            return ""
        return value

    def no_credentials_in(self, url: str, key: str) -> None:
        """A URL must not hold a user or password: secrets come from files or the environment."""
        if "@" in urlsplit(url).netloc:
            self.problem(key, "must not contain user:password@; use username and password_file")

    def secret(
        self, data: Mapping[str, Any], where: str, required: bool, name: str = "password"
    ) -> Secret | None:
        """A secret from ``<name>_file`` or from the variable named by ``<name>_env``."""
        if name in data:
            self.problem(f"{where}.{name}", f"not allowed: use {name}_file or {name}_env")
        if f"{name}_file" in data:
            path = self.file(data, f"{name}_file", where)
            if path is None:
                return None
            try:
                return Secret(path.read_text(encoding="utf-8").strip())
            except (OSError, UnicodeDecodeError) as exc:
                self.problem(f"{where}.{name}_file", f"cannot read: {exc.strerror or exc}")
                return None
        if f"{name}_env" in data:
            variable = self.text(data, f"{name}_env", where)
            if variable and variable not in os.environ:
                self.problem(f"{where}.{name}_env", f"environment variable {variable} is not set")
                return None
            return Secret(os.environ[variable].strip()) if variable else None
        if required:
            self.problem(where, f"needs {name}_file or {name}_env")
        return None

    def file(self, data: Mapping[str, Any], key: str, where: str) -> Path | None:
        value = self.text(data, key, where)
        if not value:
            return None
        path = Path(value)
        if not path.is_absolute():
            path = self.path.parent / path
        if not path.is_file():
            self.problem(f"{where}.{key}", f"no such file: {value}")
            return None
        return path


def _unknown_key(key: str, allowed: Iterable[str]) -> str:
    """ "unknown key", with the closest allowed key when one is close (a typo)."""
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f"unknown key, did you mean {close[0]!r}?" if close else "unknown key"


#: Checks one per-target setting's value: the reason it is refused, or None.
SettingCheck = Callable[[Any], str | None]


def load_config(path: Path, refu_settings: Mapping[str, SettingCheck] | None = None) -> Config:
    """Read ``path``; ``refu_settings`` are the per-target keys the REFU mapping accepts."""
    try:
        with path.open(encoding="utf-8") as stream:  # a stream: YAML errors name the file
            document = yaml.safe_load(stream)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        # One line, as every problem; the mark names the file, line and column.
        raise ConfigError([f"{path}: not valid YAML: {' '.join(str(exc).split())}"]) from None
    reader = _Reader(path)
    top = reader.section(document, "", ("refu", "powerocean"))
    refu = _refu(reader, top.get("refu"), refu_settings or {})
    powerocean = _powerocean(reader, top["powerocean"]) if "powerocean" in top else None
    if reader.problems:
        raise ConfigError(reader.problems)
    return Config(path=path, refu=refu, powerocean=powerocean)


def parse_address(value: str, default_port: int = DEFAULT_MODBUS_PORT) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, a bare host or bare IPv6 (``default_port``) -> (host, port).

    Raises ValueError naming what is wrong; a URL is refused, so is any control character.
    """
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError("contains spaces or control characters")
    if "/" in value or "@" in value:
        raise ValueError("must be host:port, not a URL")
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("must be [IPv6 address]:port")
        _ipv6(host)
        return host, _port(rest[1:] if rest else None, default_port)
    if value.count(":") > 1:  # a bare IPv6 address: the port needs brackets
        return _ipv6(value), default_port
    host, colon, port = value.partition(":")
    if not _HOST_NAME.fullmatch(host):
        raise ValueError("needs a host name or IP address before the port")
    return host, _port(port if colon else None, default_port)


#: Host names and IPv4 addresses (DNS names are at most 253 characters long).
_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")


def _ipv6(text: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise ValueError(f"not an IPv6 address: {text[:64]!r}") from None


def _port(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ValueError(f"port must be a number 1..65535, got {text[:16]!r}")
    return int(text)


def _refu(reader: _Reader, data: Any, settings: Mapping[str, SettingCheck]) -> RefuConfig:
    section = reader.section(data, "refu", ("timeout_seconds", "max_gap", "targets"))
    timeout = reader.number(section, "timeout_seconds", "refu", 3.0, minimum=0.1)
    max_gap = reader.whole_number(section, "max_gap", "refu", 10, 0, 124)
    targets_data = section.get("targets", [])
    if not isinstance(targets_data, list):
        reader.problem("refu.targets", "must be a list")
        targets_data = []
    targets = [
        target
        for index, entry in enumerate(targets_data)
        if (target := _refu_target(reader, entry, f"refu.targets[{index}]", settings))
    ]
    names = [t.name for t in targets]
    for name in sorted({n for n in names if names.count(n) > 1}):
        reader.problem("refu.targets", f"name {name!r} is used twice")
    return RefuConfig(timeout_seconds=timeout, max_gap=max_gap, targets=tuple(targets))


def _refu_target(
    reader: _Reader, data: Any, where: str, settings: Mapping[str, SettingCheck]
) -> RefuTargetConfig | None:
    entry = reader.section(data, where, {"name", "address", "unit_id", *settings})
    name = reader.text(entry, "name", where)
    if name and not name.isprintable():
        reader.problem(f"{where}.name", "must not contain control characters")
    address = reader.text(entry, "address", where)
    unit_id = reader.whole_number(entry, "unit_id", where, 1, 0, 255)
    for key in sorted(set(entry) & set(settings)):
        if (reason := settings[key](entry[key])) is not None:
            reader.problem(f"{where}.{key}", reason)
    if not address:
        return None
    try:
        host, port = parse_address(address)
    except ValueError as exc:
        reader.problem(f"{where}.address", str(exc))
        return None
    values = {k: v for k, v in entry.items() if k in settings}
    return RefuTargetConfig(name, host, port, unit_id, values)


def _powerocean(reader: _Reader, data: Any) -> PowerOceanConfig:
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


def _powerocean_devices(reader: _Reader, entries: Any) -> dict[str, str]:
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


def _open_api(reader: _Reader, data: Any) -> OpenApiConfig:
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

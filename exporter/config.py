"""Reading the exporter's YAML configuration: what every section shares.

Each device package reads its own section with a ``Reader`` (``refu/config.py``,
``powerocean/config.py``); ``configfile.load_config`` puts them together. Every problem is
reported as ``FILE: KEY: reason``, all of them at once, and no message ever contains a
secret: secrets come from ``*_file`` keys or environment variables and are held in
``Secret``, whose text form is masked (``scrub`` blanks them out of remote answers).
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import itertools
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import yaml


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
    # Each run of covered characters becomes one "***".
    runs = itertools.groupby(zip(text, covered, strict=True), key=lambda pair: pair[1])
    return "".join("***" if hidden else "".join(c for c, _ in run) for hidden, run in runs)


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


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


Named = TypeVar("Named", bound=_HasName)


class Reader:
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

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{where}.{key}", "must be true or false")
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

    def targets(
        self, section: Mapping[str, Any], where: str, parse: Callable[[Any, str], Named | None]
    ) -> list[Named]:
        """The list ``targets`` of ``section``: each entry as ``parse(entry, its key)`` makes
        it (None: refused, with the problem noted), and no two with one name. ``targets:``
        with every entry commented out is an empty list, as an empty section is."""
        entries = section.get("targets")
        if entries is None:
            entries = []
        elif not isinstance(entries, list):
            self.problem(f"{where}.targets", "must be a list")
            entries = []
        parsed = [parse(entry, f"{where}.targets[{index}]") for index, entry in enumerate(entries)]
        targets = [target for target in parsed if target is not None]
        names = Counter(target.name for target in targets)
        for name in sorted(name for name, count in names.items() if count > 1):
            self.problem(f"{where}.targets", f"name {name!r} is used twice")
        return targets

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
            try:
                return Secret(path.read_text(encoding="utf-8").strip()) if path else None
            except (OSError, UnicodeDecodeError) as exc:
                self.problem(f"{where}.{name}_file", f"cannot read: {_reason(exc)}")
                return None
        if f"{name}_env" in data:
            variable = self.text(data, f"{name}_env", where)
            if variable in os.environ:
                return Secret(os.environ[variable].strip())
            if variable:
                self.problem(f"{where}.{name}_env", f"environment variable {variable} is not set")
            return None
        if required:
            self.problem(where, f"needs {name}_file or {name}_env")
        return None

    def file(self, data: Mapping[str, Any], key: str, where: str) -> Path | None:
        """The file named by ``key``, relative to the configuration's folder; None without one."""
        value = self.text(data, key, where, required=False)
        if not value:
            return None
        path = self.path.parent / value  # an absolute path stays as it is
        if not path.is_file():
            self.problem(f"{where}.{key}", f"no such file: {value!r}")
            return None
        return path


def _unknown_key(key: str, allowed: Iterable[str]) -> str:
    """ "unknown key", with the closest allowed key when one is close (a typo)."""
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f"unknown key, did you mean {close[0]!r}?" if close else "unknown key"


def section_keys(config: type[Any], secret: str = "") -> tuple[str, ...]:
    """The keys of a section read into the dataclass ``config``: one per field, and for the
    field named ``secret`` its ``_file`` and ``_env`` keys (the field's own key is refused by
    ``Reader.secret`` with a reason)."""
    names = tuple(f.name for f in fields(config))
    return (*names, f"{secret}_file", f"{secret}_env") if secret else names


#: Checks one per-target setting's value: the reason it is refused, or None.
SettingCheck = Callable[[Any], str | None]


def parse_address(value: str, default_port: int) -> tuple[str, int]:
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


def join_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets, as URLs and ``parse_address`` want it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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


#: libyaml's parser when PyYAML was built with it (several times faster), else PyYAML's own.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load``, with the C parser when there is one."""
    return yaml.load(stream, Loader=_SAFE_LOADER)


def read_document(path: Path) -> Any:
    """The YAML document of ``path``; ConfigError (one line naming the file) when unreadable."""
    try:
        with path.open(encoding="utf-8") as stream:  # a stream: YAML errors name the file
            return load_yaml(stream)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {_reason(exc)}"]) from None
    except yaml.YAMLError as exc:
        # One line, as every problem; the mark names the file, line and column.
        raise ConfigError([f"{path}: not valid YAML: {' '.join(str(exc).split())}"]) from None


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    """What went wrong: an OSError's reason without the path its text repeats; for text that
    is not UTF-8, not the bytes the decoder quotes (they may be part of a secret)."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return exc.strerror or str(exc)  # the OS gives every failed open or read its reason

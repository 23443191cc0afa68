"""``--web.config.file``: TLS, client certificates, headers, basic authentication and a rate
limit, in the web configuration format of the Prometheus exporter toolkit; unknown keys are
refused. Python's ssl verifies every client certificate it asks for, so each
``client_auth_type`` but ``NoClientCert`` needs a CA (``RequestClientCert`` acts as
``VerifyClientCertIfGiven``, ``RequireAnyClientCert`` as ``RequireAndVerifyClientCert``);
``curve_preferences`` keeps only its first curve; ``http2`` is accepted, the server speaks
HTTP/1.1.
"""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt

from exporter.config import ConfigError, Reader, read_document

_TLS = "tls_server_config"
_TOP_KEYS = (_TLS, "http_server_config", "basic_auth_users", "rate_limit")
_TLS_KEYS = (
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "prefer_server_cipher_suites",
    "curve_preferences",
)
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
#: The configurable (TLS <= 1.2) suites of Go's tls.CipherSuites(), by their OpenSSL names.
_CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}
_CURVES = {
    "CurveP256": "prime256v1",
    "CurveP384": "secp384r1",
    "CurveP521": "secp521r1",
    "X25519": "X25519",
}
#: Response headers the format allows, with the values it allows (None: any text).
_HEADERS: dict[str, frozenset[str] | None] = {
    "Content-Security-Policy": None,
    "X-Frame-Options": frozenset({"deny", "sameorigin"}),
    "X-Content-Type-Options": frozenset({"nosniff"}),
    "X-XSS-Protection": None,
    "Strict-Transport-Security": None,
}
#: bcrypt reads at most this many bytes of a password; longer ones are refused, never cut.
_BCRYPT_MAX_BYTES = 72
#: ``$2b$10$`` (the cost, 04..31) and 53 characters of salt and hash.
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}")
#: A duration as Go writes one (``1m30s``, ``100ms``), or ``0``.
_DURATION = re.compile(r"0|(\d+(\.\d+)?(ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class RateLimit:
    """A token bucket: ``burst`` requests at once, then one per ``interval`` seconds.

    Asked on the server's event loop only, so it needs no lock.
    """

    def __init__(self, interval: float, burst: int) -> None:
        self._interval = interval
        self._burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._interval)
        self._at = now
        if allowed := self._tokens >= 1:
            self._tokens -= 1
        return allowed


@dataclass(frozen=True)
class WebConfig:
    tls: ssl.SSLContext | None = None
    #: A client certificate must name one of these (DNS, IP, e-mail or URI) when set.
    allowed_sans: frozenset[str] = frozenset()
    headers: tuple[tuple[str, str], ...] = ()
    users: Mapping[str, bytes] = field(default_factory=dict)
    rate_limit: RateLimit | None = None
    # bcrypt is slow by design; a header that passed once is remembered by its digest.
    _accepted: set[bytes] = field(default_factory=set, repr=False)

    def admits_at_once(self, header: str | None) -> bool:
        """Whether a request with this Authorization header passes without a bcrypt check:
        no users are configured, or the header passed before."""
        return not self.users or _digest(header) in self._accepted

    def authorized(self, header: str | None) -> bool:
        """Whether a request with this Authorization header may pass.

        A name that is not a user, or a password bcrypt cannot take, costs one bcrypt
        check all the same, against the most costly user's hash (the cost is the 10 of
        ``$2b$10$``): the answer's timing does not tell user names apart.
        """
        if self.admits_at_once(header):
            return True
        user, password = _basic_credentials(header)
        hashed = self.users.get(user)
        if hashed is None or len(password) > _BCRYPT_MAX_BYTES:
            costliest = max(self.users.values(), key=lambda known: known[4:6])
            bcrypt.checkpw(password[:_BCRYPT_MAX_BYTES], costliest)
            return False
        if not bcrypt.checkpw(password, hashed):
            return False
        self._accepted.add(_digest(header))
        return True

    def admits(self, certificate: Mapping[str, Any] | None) -> bool:
        """Whether a verified client certificate names one of ``allowed_sans``."""
        if not self.allowed_sans:
            return True
        names = {value for _, value in (certificate or {}).get("subjectAltName", ())}
        return bool(names & self.allowed_sans)


def _digest(header: str | None) -> bytes:
    return hashlib.sha256((header or "").encode("utf-8", "replace")).digest()


def _basic_credentials(header: str | None) -> tuple[str, bytes]:
    """(user, password) of a Basic Authorization header; ("", b"") when it is not one."""
    if not header or not header.startswith("Basic "):
        return "", b""
    try:
        decoded = base64.b64decode(header[6:], validate=True)
        user, _, password = decoded.partition(b":")
        return user.decode(), password
    except ValueError:  # binascii.Error and UnicodeError are ValueErrors
        return "", b""


def load_web_config(path: Path) -> WebConfig:
    """Read and check ``path``; raises ConfigError with one line per problem."""
    reader = Reader(path)
    top = reader.section(read_document(path) or {}, "", _TOP_KEYS)
    tls = reader.section(top.get(_TLS), _TLS, _TLS_KEYS)
    config = WebConfig(
        tls=_tls_context(reader, tls) if tls else None,
        allowed_sans=_allowed_sans(reader, tls),
        headers=_headers(reader, top.get("http_server_config")),
        users=_users(reader, top.get("basic_auth_users")),
        rate_limit=_rate_limit(reader, top.get("rate_limit")),
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def _users(problems: Reader, data: Any) -> dict[str, bytes]:
    if not isinstance(data, dict | None):
        problems.problem("basic_auth_users", "must map user names to bcrypt hashes")
        return {}
    users = {}
    for user, hashed in (data or {}).items():
        if isinstance(hashed, str) and _BCRYPT_HASH.fullmatch(hashed):
            users[str(user)] = hashed.encode()
        else:
            problems.problem(f"basic_auth_users.{user}", "must be a bcrypt hash")
    return users


def _headers(problems: Reader, data: Any) -> tuple[tuple[str, str], ...]:
    section = problems.section(data, "http_server_config", ("http2", "headers"))
    problems.flag(section, "http2", "http_server_config", default=False)
    headers = problems.section(section.get("headers"), "http_server_config.headers", _HEADERS)
    chosen = []
    for name, value in headers.items():
        allowed = _HEADERS.get(name)
        text = value if isinstance(value, str) else None
        if text is None or not text.isprintable() or (allowed is not None and text not in allowed):
            wanted = " or ".join(sorted(allowed)) if allowed else "printable text"
            problems.problem(f"http_server_config.headers.{name}", f"must be {wanted}")
        elif text:
            chosen.append((str(name), text))
    return tuple(chosen)


def _rate_limit(problems: Reader, data: Any) -> RateLimit | None:
    section = problems.section(data, "rate_limit", ("interval", "burst"))
    interval = str(section.get("interval", "0"))
    burst = section.get("burst", 0)
    if not _DURATION.fullmatch(interval):
        problems.problem("rate_limit.interval", "must be a duration such as 100ms, 1s or 1m")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 0:
        problems.problem("rate_limit.burst", "must be a whole number >= 0")
        return None
    parts = _DURATION_PART.findall(interval)
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return RateLimit(seconds, burst) if seconds else None


def _tls_context(problems: Reader, tls: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    for step in (_load_certificate, _client_auth, _versions, _ciphers):
        step(problems, tls, context)
    return context


def _load_certificate(problems: Reader, tls: Mapping[str, Any], context: ssl.SSLContext) -> None:
    for inline, file_key in (("cert", "cert_file"), ("key", "key_file")):
        if (inline in tls) == (file_key in tls):
            problems.problem(f"{_TLS}.{file_key}", f"needs exactly one of {file_key} or {inline}")
            return
    try:
        with tempfile.TemporaryDirectory() as folder:
            cert, key = (_pem_file(problems, tls, name, folder) for name in ("cert", "key"))
            if cert and key:
                context.load_cert_chain(cert, key)
    except OSError as exc:  # also ssl.SSLError: not PEM, or a key that is not the cert's
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        problems.problem(_TLS, f"certificate and key do not load together: {reason}")


def _pem_file(problems: Reader, tls: Mapping[str, Any], name: str, folder: str) -> Path | None:
    """The file ``<name>_file`` names, or the inline PEM text of ``name`` written to a file in
    ``folder`` (ssl loads certificate chains from files only); None when it is refused."""
    if f"{name}_file" in tls:
        return problems.file(tls, f"{name}_file", _TLS)
    text = problems.text(tls, name, _TLS)
    if not text:
        return None
    path = Path(folder) / f"{name}.pem"
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")
    return path


def _client_auth(problems: Reader, tls: Mapping[str, Any], context: ssl.SSLContext) -> None:
    kind = str(tls.get("client_auth_type", "NoClientCert"))
    # The CA's key as given (client_ca_file when both are).
    ca_key = next((key for key in ("client_ca_file", "client_ca") if key in tls), None)
    if kind not in _CLIENT_AUTH:
        problems.problem(f"{_TLS}.client_auth_type", f"must be one of {', '.join(_CLIENT_AUTH)}")
    elif kind == "NoClientCert" and ca_key:
        problems.problem(f"{_TLS}.{ca_key}", "set, but client_auth_type is NoClientCert")
    elif kind != "NoClientCert" and not ca_key:
        problems.problem(
            f"{_TLS}.client_auth_type",
            f"{kind} needs client_ca_file or client_ca (every client certificate is verified)",
        )
    elif ca_key and _load_client_ca(problems, tls, ca_key, context):
        context.verify_mode = _CLIENT_AUTH[kind]


def _load_client_ca(
    problems: Reader, tls: Mapping[str, Any], ca_key: str, context: ssl.SSLContext
) -> bool:
    """Whether the CA of ``ca_key`` (``client_ca_file``: a file's name, ``client_ca``: PEM text)
    loaded into ``context``."""
    ca_file = problems.file(tls, ca_key, _TLS) if ca_key == "client_ca_file" else None
    ca_text = problems.text(tls, ca_key, _TLS) if ca_key == "client_ca" else None
    if not (ca_file or ca_text):
        return False
    try:
        context.load_verify_locations(cafile=ca_file, cadata=ca_text)
    except (ssl.SSLError, OSError, TypeError) as exc:  # TypeError: inline text not ASCII
        problems.problem(f"{_TLS}.{ca_key}", f"cannot load: {exc}")
        return False
    return True


def _versions(problems: Reader, tls: Mapping[str, Any], context: ssl.SSLContext) -> None:
    for key, default, attribute in (
        ("min_version", "TLS12", "minimum_version"),
        ("max_version", "TLS13", "maximum_version"),
    ):
        name = str(tls.get(key, default))
        if name not in _VERSIONS:
            problems.problem(f"{_TLS}.{key}", f"must be one of {', '.join(_VERSIONS)}")
            continue
        setattr(context, attribute, _VERSIONS[name])
    if context.minimum_version > context.maximum_version:
        problems.problem(f"{_TLS}.min_version", "is above max_version")


def _ciphers(problems: Reader, tls: Mapping[str, Any], context: ssl.SSLContext) -> None:
    if not problems.flag(tls, "prefer_server_cipher_suites", _TLS, default=True):
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if suites := _known(problems, tls, "cipher_suites", _CIPHER_SUITES):
        context.set_ciphers(":".join(suites))
    if curves := _known(problems, tls, "curve_preferences", _CURVES):
        context.set_ecdh_curve(curves[0])


def _known(
    problems: Reader, tls: Mapping[str, Any], key: str, known: Mapping[str, str]
) -> list[str]:
    """The OpenSSL names of a list of Go names out of ``known``; others are problems."""
    value = tls.get(key) or []
    if not isinstance(value, list):
        problems.problem(f"{_TLS}.{key}", "must be a list")
        return []
    names = [str(name) for name in value]
    for name in names:
        if name not in known:
            problems.problem(
                f"{_TLS}.{key}",
                f"unknown or unsupported {name!r}; known: {', '.join(sorted(known))}",
            )
    return [known[name] for name in names if name in known]


def _allowed_sans(problems: Reader, tls: Mapping[str, Any]) -> frozenset[str]:
    sans = tls.get("client_allowed_sans") or []
    if not isinstance(sans, list) or not all(isinstance(s, str) for s in sans):
        problems.problem(f"{_TLS}.client_allowed_sans", "must be a list of names")
        return frozenset()
    # Only a certificate asked of every client can name one of them.
    if sans and _CLIENT_AUTH.get(str(tls.get("client_auth_type"))) != ssl.CERT_REQUIRED:
        problems.problem(
            f"{_TLS}.client_allowed_sans",
            "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert",
        )
    return frozenset(sans)

"""``--web.config.file``: TLS and basic authentication, in the Prometheus exporter format.

```yaml
tls_server_config: {cert_file: server.crt, key_file: server.key}
basic_auth_users: {prometheus: <bcrypt hash>}
```
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import TCPServer

import bcrypt
import yaml

from exporter.config import ConfigError


@dataclass
class WebConfig:
    cert_file: Path | None = None
    key_file: Path | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    # bcrypt is slow by design; a header that passed once is remembered by its digest.
    _accepted: set[bytes] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def authorized(self, header: str | None) -> bool:
        if not self.users:
            return True
        if not header or not header.startswith("Basic "):
            return False
        digest = hashlib.sha256(header.encode()).digest()
        with self._lock:
            if digest in self._accepted:
                return True
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        hashed = self.users.get(user)
        if hashed is None or not bcrypt.checkpw(password.encode(), hashed):
            return False
        with self._lock:
            self._accepted.add(digest)
        return True

    def wrap(self, server: TCPServer) -> None:
        """Serve TLS on ``server``'s socket when a certificate is configured."""
        if self.cert_file is None or self.key_file is None:
            return
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_file, self.key_file)
        # The handshake then happens in the request's thread, not in the accept loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )


def load_web_config(path: Path) -> WebConfig:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ConfigError([f"{path}: must be a mapping"])
    for key in sorted(set(document) - {"tls_server_config", "basic_auth_users"}):
        problems.append(f"{path}: {key}: unknown key")
    config = WebConfig()
    tls = document.get("tls_server_config") or {}
    if tls:
        for key in ("cert_file", "key_file"):
            value = tls.get(key) if isinstance(tls, dict) else None
            file = (path.parent / value) if isinstance(value, str) else None
            if file is None or not file.is_file():
                problems.append(f"{path}: tls_server_config.{key}: no such file: {value!r}")
            else:
                setattr(config, key, file)
    users = document.get("basic_auth_users") or {}
    if not isinstance(users, dict):
        problems.append(f"{path}: basic_auth_users: must map user names to bcrypt hashes")
        users = {}
    for user, hashed in users.items():
        if not isinstance(hashed, str) or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            problems.append(f"{path}: basic_auth_users.{user}: must be a bcrypt hash")
        else:
            config.users[str(user)] = hashed.encode()
    if problems:
        raise ConfigError(problems)
    return config

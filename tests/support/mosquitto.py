"""Test helpers: a real Mosquitto on a loopback port, and an MQTT client that records messages.

Not a test module. ``Mosquitto`` and ``Subscriber`` are context managers; the
``mosquitto_broker`` generator can be wrapped in a pytest fixture.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import trustme
from paho.mqtt.enums import CallbackAPIVersion

from exporter.simulate import free_port
from tests.support.processes import stop_process

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
HOST = "127.0.0.1"

Message = tuple[str, bytes]


def write_ca(ca: trustme.CA, directory: Path) -> Path:
    """Write the CA certificate as a PEM file clients can trust."""
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def write_server_cert(ca: trustme.CA, directory: Path) -> tuple[Path, Path]:
    """Issue a certificate for 127.0.0.1/localhost; returns (certfile, keyfile)."""
    leaf = ca.issue_cert(HOST, "localhost")
    certfile, keyfile = directory / "server.pem", directory / "server.key"
    certfile.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(keyfile))
    return certfile, keyfile


class Mosquitto:
    """A Mosquitto process with a generated config in ``directory``.

    ``tls`` adds a certificate from ``ca`` (a new trustme CA if none is given; its PEM is
    ``ca_file``). ``users`` (name -> password) switches anonymous access off.
    The port is chosen once, so ``restart()`` comes back on the same one.
    """

    def __init__(
        self,
        directory: Path,
        *,
        tls: bool = False,
        ca: trustme.CA | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.tls = tls
        self.users = dict(users or {})
        self.ca_file: Path | None = None
        self.log_file = directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        lines = [
            f"listener {self.port} {HOST}",
            f"allow_anonymous {'false' if self.users else 'true'}",
            "persistence false",
            f"log_dest file {self.log_file}",
            "log_type all",
            f"user {pwd.getpwuid(os.getuid()).pw_name}",  # as root it would switch to 'mosquitto'
        ]
        if tls:
            ca = ca or trustme.CA()
            self.ca_file = write_ca(ca, directory)
            certfile, keyfile = write_server_cert(ca, directory)
            lines += [f"cafile {self.ca_file}", f"certfile {certfile}", f"keyfile {keyfile}"]
        if self.users:
            lines.append(f"password_file {write_password_file(directory, self.users)}")
        self.config_file = directory / "mosquitto.conf"
        self.config_file.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{HOST}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the port accepts connections."""
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited:\n{self.log_text()[-2000:]}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"mosquitto does not accept on port {self.port}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mosquitto_broker(directory: Path, **options: Any) -> Iterator[Mosquitto]:
    """Generator for a pytest fixture: a started broker, stopped afterwards."""
    with Mosquitto(directory, **options) as broker:
        yield broker


def write_password_file(directory: Path, users: dict[str, str]) -> Path:
    """A Mosquitto password file, made by mosquitto_passwd or, without it, by hand."""
    path = directory / "passwords"
    path.write_text("")
    if Path(MOSQUITTO_PASSWD).is_file():
        for name, password in users.items():
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(path), name, password], check=True)
    else:
        path.write_text("".join(f"{n}:{_password_hash(p)}\n" for n, p in users.items()))
    return path


def _password_hash(password: str) -> str:
    """Mosquitto 2.0's format: $7$ is PBKDF2-SHA512, then iterations, salt and hash."""
    salt, iterations = os.urandom(12), 101
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    encode = base64.b64encode
    return f"$7${iterations}${encode(salt).decode()}${encode(digest).decode()}"


class Inbox:
    """A thread-safe list of (topic, payload) with waiting, and when each arrived."""

    def __init__(self) -> None:
        self._items: list[Message] = []
        self._arrivals: list[float] = []
        self._changed = threading.Condition()

    def add(self, topic: str, payload: bytes) -> None:
        with self._changed:
            self._items.append((topic, payload))
            self._arrivals.append(time.monotonic())
            self._changed.notify_all()

    @property
    def items(self) -> list[Message]:
        with self._changed:
            return list(self._items)

    def arrivals(self) -> list[tuple[float, str, bytes]]:
        """Each message with the time it arrived (``time.monotonic()``), in arrival order."""
        with self._changed:
            return [(at, *item) for at, item in zip(self._arrivals, self._items, strict=True)]

    def on(self, topic: str) -> list[bytes]:
        return [payload for t, payload in self.items if t == topic]

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout: float) -> bool:
        """Wait until ``predicate(items)`` holds; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self._items)), timeout)


class Subscriber:
    """A paho client that records messages on ``topics`` and can publish device payloads."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: Iterable[str] = (),
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.broker = broker
        self.topics = list(topics)
        self.inbox = Inbox()
        self.refused: str | None = None  # the CONNACK reason if the broker said no
        self._ready = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}"
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if broker.tls:
            self._client.tls_set_context(ssl.create_default_context(cafile=broker.ca_file))
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = lambda _c, _u, m: self.inbox.add(m.topic, m.payload)

    def start(self, timeout: float = 5.0) -> None:
        """Connect and wait until subscribed (or just connected, without topics)."""
        self._client.connect(HOST, self.broker.port)
        self._client.loop_start()
        if not self._ready.wait(timeout) or self.refused is not None:
            self.stop()
            raise RuntimeError(f"test subscriber did not get ready: {self.refused}")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: bytes, timeout: float = 5.0) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(timeout)

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout: float) -> bool:
        return self.inbox.wait_for(predicate, timeout)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            self._ready.set()
        elif self.topics:
            client.subscribe([(topic, 1) for topic in self.topics])
        else:
            self._ready.set()

    def __enter__(self) -> Subscriber:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

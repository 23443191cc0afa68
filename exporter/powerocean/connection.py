"""The MQTT connection to the PowerOcean broker (EcoFlow's cloud or a local one).

A supervisor thread owns the life cycle: it logs in when needed, connects a fresh paho
client (clean session) and runs paho's network thread until the connection ends, then
waits with exponential backoff and starts over. Each session subscribes to the device
topics and publishes the only frames the exporter ever sends, requests for data, when its
``RequestSchedule`` says; when that finds the connection silent, the session ends and the
next one logs in afresh. With developer keys (Open API) it takes the broker credentials
from the API's certification, subscribes to the quota topics and publishes nothing.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.powerocean.devices import Devices
from exporter.powerocean.https import ApiError
from exporter.powerocean.login import BrokerCredentials, login
from exporter.powerocean.open_api import OpenApiClient
from exporter.powerocean.schedule import RequestSchedule
from exporter.powerocean.wire import DATA_REQUESTS, REPLY_TOPIC, DataRequest, serial_from_topic

log = logging.getLogger(__name__)

MQTT_KEEPALIVE_SECONDS = 60
#: CONNACK reason codes that mean "these credentials are refused" (MQTT 5 numbering,
#: which paho also uses for MQTT 3.1.1 return codes 4 and 5).
_CREDENTIALS_REFUSED = frozenset({134, 135})


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``attempt`` (0-based): ``initial`` doubling up to ``maximum``, ±jitter."""

    initial: float
    maximum: float
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * 2.0 ** min(attempt, 30))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)


#: Between connection attempts (broker down, network trouble, transient login errors).
RECONNECT_BACKOFF = Backoff(1.0, 60.0)
#: After the API rejected the account's password: do not hammer the login endpoint.
LOGIN_REJECTED_BACKOFF = Backoff(300.0, 3600.0)
#: After the Open API refused the keys or the device for good (8513, 1006): once an hour.
OPEN_API_REJECTED_BACKOFF = Backoff(3600.0, 3600.0, jitter=0.05)


def _configured_broker(broker: BrokerConfig) -> BrokerCredentials:
    """The broker at ``mqtt[s]://host[:port]`` (the configuration checked the scheme)."""
    split = urlsplit(broker.url)
    tls = split.scheme == "mqtts"
    return BrokerCredentials(
        host=split.hostname or "",
        port=split.port or (8883 if tls else 1883),
        tls=tls,
        username=broker.username,
        password=broker.password,
        client_id=f"ess-exporter-{uuid.uuid4().hex[:12]}",
        user_id=broker.username or "exporter",
        ca_file=broker.ca_file,
    )


def _port_hint(broker: BrokerCredentials, exc: Exception | None = None) -> str:
    """A hint when the scheme may not fit the port: plain MQTT got no answer (``exc`` None),
    as from a TLS port, or a TLS handshake broke off, as against a plain MQTT port."""
    if exc is None:
        return "" if broker.tls else " (a TLS port? then use mqtts://)"
    broken = isinstance(exc, ssl.SSLError | ConnectionResetError)
    if broker.tls and broken and not isinstance(exc, ssl.SSLCertVerificationError):
        return " (a plain MQTT port? then use mqtt://)"
    return ""


def _loss_cause(reason: ReasonCode) -> str:
    """Why an accepted connection ended. Over MQTT 3.1.1 a broker gives no reason, and paho
    names a socket the other side closed "Unspecified error"."""
    if str(reason) == "Unspecified error":
        return "the broker or the network closed it"
    return str(reason)


@dataclass
class _Session:
    """State of one paho client, shared by its callbacks and the supervisor."""

    client: mqtt.Client
    broker: BrokerCredentials
    accepted: bool = False  # CONNACK said yes
    subscribed: bool = False  # SUBACK arrived: payloads flow
    ended: bool = False
    #: The data requests, from the SUBACK on (none with the Open API).
    schedule: RequestSchedule | None = None


class PowerOceanConnection(threading.Thread):
    """The supervisor thread: keeps one MQTT session alive and hands every device payload to
    ``on_payload``. ``start()`` never blocks and never raises for I/O.

    ``on_payload(topic, payload)`` runs on paho's network thread; it must be quick.
    ``requests_of(serial)``: the data requests a system takes (every one when not given).
    """

    def __init__(
        self,
        config: PowerOceanConfig,
        on_payload: Callable[[str, bytes], None],
        *,
        devices: Devices | None = None,
        open_api: OpenApiClient | None = None,
        backoff: Backoff = RECONNECT_BACKOFF,
        requests_of: Callable[[str], Collection[DataRequest]] = lambda serial: DATA_REQUESTS,
    ) -> None:
        super().__init__(name="powerocean-mqtt", daemon=True)
        self._config = config
        self._devices = devices if devices is not None else Devices(config.devices)
        self._open_api = open_api
        self._on_payload = on_payload
        self._backoff = backoff
        self._requests_of = requests_of
        self._login_backoff = OPEN_API_REJECTED_BACKOFF if open_api else LOGIN_REJECTED_BACKOFF
        #: The broker to connect to while it accepts us: the configured one, or the one the
        #: app login handed out (until the broker refuses its credentials).
        self._broker = _configured_broker(config.broker) if config.broker else None
        self._session: _Session | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._counter_lock = threading.Lock()
        self.connects = 0
        self.disconnects = 0
        self.login_attempts = 0
        self.login_failures = 0
        self._published = dict.fromkeys((request.name for request in DATA_REQUESTS), 0)

    @property
    def connected(self) -> bool:
        """True while connected and subscribed."""
        session = self._session
        return session is not None and session.subscribed and not session.ended

    @property
    def published_requests(self) -> dict[str, int]:
        """Data requests published so far, by request name (every one, from 0)."""
        with self._counter_lock:
            return dict(self._published)

    def stop(self) -> None:
        """Disconnect and wait for the threads to end; safe to call more than once."""
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            # The supervisor may be inside a login or a connect, each bounded by the timeout.
            self.join(timeout=2 * self._config.timeout_seconds + 5)

    def _count(self, name: str) -> None:
        with self._counter_lock:
            setattr(self, name, getattr(self, name) + 1)

    # -- supervisor thread -------------------------------------------------------------

    def run(self) -> None:
        failures = 0  # consecutive attempts that did not get connected
        rejections = 0  # consecutive permanent login failures
        while not self._stopping.is_set():
            try:
                broker = self._broker or self._log_in()
            except ApiError as exc:
                self._count("login_failures")
                if exc.permanent:
                    delay = self._login_backoff.delay(rejections)
                    rejections += 1
                else:
                    delay = self._backoff.delay(failures)
                    failures += 1
                log.error("PowerOcean login failed, next try in %.0f s: %s", delay, exc)
                self._stopping.wait(delay)
                continue
            rejections = 0
            if self._run_session(broker):
                failures = 0
            if self._stopping.is_set():
                break
            delay = self._backoff.delay(failures)
            failures += 1
            log.info("PowerOcean: connecting again in %.1f s", delay)
            self._stopping.wait(delay)

    def _log_in(self) -> BrokerCredentials:
        """The broker the app login or the Open API's certification hands out (and, with no
        devices configured, the Open API's device list); raises ApiError."""
        self._count("login_attempts")
        if self._open_api is None:
            assert self._config.login is not None  # exactly one of broker, login, open_api
            self._broker = login(self._config.login, self._config.timeout_seconds)
            return self._broker
        if not self._config.devices and not self._devices.names():
            self._devices.replace(self._open_api.device_list())
            log.info("PowerOcean: the Open API lists %d devices", len(self._devices.names()))
        return self._open_api.certification()

    def _run_session(self, broker: BrokerCredentials) -> bool:
        """Connect once and serve until the connection ends; True if it was accepted and
        did not end silent."""
        try:
            session = self._new_session(broker)
            session.client.connect(broker.host, broker.port, keepalive=MQTT_KEEPALIVE_SECONDS)
        except (OSError, ValueError) as exc:  # refused, timeout, TLS verification, bad CA file
            hint = _port_hint(broker, exc)
            log.warning("PowerOcean broker %s: no connection: %s%s", broker.address, exc, hint)
            return False
        self._session = session
        session.client.loop_start()
        try:
            silent = self._serve(session)
        finally:
            session.client.disconnect()
            session.client.loop_stop()
            self._session = None
        return session.accepted and not silent

    def _serve(self, session: _Session) -> bool:
        """Wait for the session to end, publishing the data requests on time while
        subscribed; end it when it has gone silent, and then return True."""
        accept_by = time.monotonic() + self._config.timeout_seconds
        while True:
            self._wake.clear()  # before looking, so no wake-up is lost
            if self._stopping.is_set() or session.ended:
                return False
            timeout = None
            if not session.accepted:
                timeout = accept_by - time.monotonic()
                if timeout <= 0:
                    message = "PowerOcean broker %s: no answer to CONNECT%s"
                    log.warning(message, session.broker.address, _port_hint(session.broker))
                    return False
            if session.schedule is not None:
                now = time.monotonic()
                if session.schedule.silent(now):
                    self._end_silent(session)
                    return True
                for request, serials in session.schedule.due(now):
                    self._publish(session, request, serials)
                next_at = session.schedule.next_at()
                timeout = None if next_at is None else next_at - now
            self._wake.wait(timeout)

    def _end_silent(self, session: _Session) -> None:
        """End a session whose systems all stayed silent though asked again; the next one
        logs in afresh (app login) for new broker credentials."""
        fresh = ""
        if self._config.login:
            self._broker = None
            fresh = " with a new login"
        log.warning(
            "PowerOcean: no system sent anything for %.0f s, though asked again; reconnecting%s",
            2 * self._config.silent_after_seconds,
            fresh,
        )
        session.ended = True
        self._count("disconnects")

    def _new_session(self, broker: BrokerCredentials) -> _Session:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=broker.client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,  # the supervisor reconnects, with fresh credentials
        )
        client.connect_timeout = self._config.timeout_seconds
        if broker.username is not None:
            password = broker.password.reveal() if broker.password else None
            client.username_pw_set(broker.username, password)
        if broker.tls:
            client.tls_set_context(ssl.create_default_context(cafile=broker.ca_file))
        session = _Session(client, broker)
        client.on_connect = lambda _c, _u, _f, reason, _p: self._on_connect(session, reason)
        client.on_subscribe = lambda _c, _u, _m, reasons, _p: self._on_subscribe(session, reasons)
        client.on_disconnect = lambda _c, _u, _f, reason, _p: self._on_disconnect(session, reason)
        client.on_message = lambda _c, _u, message: self._on_message(session, message)
        return session

    # -- paho callbacks (network thread: they must not raise) ---------------------------

    def _on_connect(self, session: _Session, reason: ReasonCode) -> None:
        if reason.is_failure:
            session.ended = True
            log.warning("PowerOcean broker refused the connection: %s", reason)
            if reason.value in _CREDENTIALS_REFUSED and self._config.login:
                log.info("PowerOcean: the broker refused the login's credentials; logging in again")
                self._broker = None
            self._wake.set()
            return
        session.accepted = True
        self._count("connects")
        broker = session.broker
        log.info("PowerOcean broker %s connected", broker.address)
        topics = []
        for serial in self._devices:
            if self._open_api is not None:  # the quota stream; nothing is ever published
                topics.append((f"/open/{broker.user_id}/{serial}/quota", 1))
            else:  # what the devices push, and the answers to the data requests
                topics.append((f"/app/device/property/{serial}", 1))
                topics.append((REPLY_TOPIC.format(user_id=broker.user_id, serial=serial), 1))
        if not topics:
            log.warning("PowerOcean: no devices to subscribe to")
            return
        session.client.subscribe(topics)

    def _on_subscribe(self, session: _Session, reasons: list[ReasonCode]) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("PowerOcean broker refused subscriptions: %s", ", ".join(refused))
        if self._open_api is None:
            session.schedule = RequestSchedule(
                self._config, self._devices, time.monotonic(), self._requests_of
            )
        session.subscribed = True
        self._wake.set()

    def _on_disconnect(self, session: _Session, reason: ReasonCode) -> None:
        if session.accepted and not session.ended:
            self._count("disconnects")
        if not session.ended and not self._stopping.is_set():  # an end nobody logged yet
            if session.accepted:
                log.warning(
                    "PowerOcean broker %s: connection lost (%s)",
                    session.broker.address,
                    _loss_cause(reason),
                )
            else:
                message = "PowerOcean broker %s: closed before accepting the connection%s"
                log.warning(message, session.broker.address, _port_hint(session.broker))
        session.ended = True
        self._wake.set()

    def _on_message(self, session: _Session, message: Any) -> None:
        if session.schedule is not None:
            session.schedule.heard(serial_from_topic(message.topic), time.monotonic())
        try:
            self._on_payload(message.topic, message.payload)
        except Exception:
            log.exception("PowerOcean payload handler failed on %s", message.topic)

    def _publish(self, session: _Session, request: DataRequest, serials: tuple[str, ...]) -> None:
        for serial in serials:
            topic = f"/app/{session.broker.user_id}/{serial}/thing/property/{request.verb}"
            payload = request.build(time.time_ns() // 1_000_000)
            if session.client.publish(topic, payload, qos=1).rc == mqtt.MQTT_ERR_SUCCESS:
                with self._counter_lock:
                    self._published[request.name] += 1

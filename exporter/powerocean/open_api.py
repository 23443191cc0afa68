"""EcoFlow developer ("Open") API over HTTPS, read-only: broker credentials, devices, quotas,
and the thread that asks for the quotas of devices whose quota stream went silent.

Every request is signed with the access key and secret key from EcoFlow's developer portal:
HMAC-SHA256 over the flattened, sorted parameters followed by the access key, a nonce and a
timestamp. Neither key ever appears in an error message: text taken from an answer is
scrubbed of every form of them (plain, base64, URL-encoded) before it is shortened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from exporter.config import Secret, scrub
from exporter.powerocean.config import DEFAULT_OPEN_API
from exporter.powerocean.https import MAX_MESSAGE, ApiError, answer_text, fetch, json_object
from exporter.powerocean.login import BrokerCredentials, certified_broker
from exporter.powerocean.quota import QuotaIngest, quota_keys

log = logging.getLogger(__name__)

CERTIFICATION_PATH = "/iot-open/sign/certification"
DEVICE_LIST_PATH = "/iot-open/sign/device/list"
QUOTA_ALL_PATH = "/iot-open/sign/device/quota/all"

T = TypeVar("T")

#: How long a device the API refused for good (1006) is left alone.
PERMANENT_PAUSE_SECONDS = 3600.0

#: code -> (message, permanent). 8521 is also seen now and then with a right key, so it is retried.
_KNOWN_CODES: dict[str, tuple[str, bool]] = {
    "8513": ("wrong region or key (accessKey is invalid): check api_url and the keys", True),
    "8521": ("signature is wrong: check the secret key", False),
}


def sign_string(
    params: Mapping[str, Any], access_key: str, nonce: str | int, timestamp: str | int
) -> str:
    """The text that is signed: sorted ``k=v`` pairs, then access key, nonce and timestamp."""
    flat = sorted(quota_keys(params), key=lambda pair: pair[0])
    # Words as JSON writes them (true, false, null), everything else as Python writes it.
    pairs = [f"{key}={json.dumps(v) if v is None or isinstance(v, bool) else v}" for key, v in flat]
    auth = [f"accessKey={access_key.strip()}", f"nonce={nonce}", f"timestamp={timestamp}"]
    return "&".join(pairs + auth)


def signature(
    params: Mapping[str, Any],
    access_key: str,
    secret_key: str,
    nonce: str | int,
    timestamp: str | int,
) -> str:
    """HMAC-SHA256 of :func:`sign_string` with the secret key, as lower-case hex."""
    message = sign_string(params, access_key, nonce, timestamp)
    return hmac.new(secret_key.strip().encode(), message.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """A random 6-digit number, as the API documents it."""
    return str(100_000 + secrets.randbelow(900_000))


class OpenApiClient:
    """Signed GET requests to the Open API at ``api_url`` (https only).

    Each call opens one connection and ends within ``timeout`` seconds, and follows no
    redirect: a 3xx answer is an error, so a request never leaves the API's origin
    or falls back to plain HTTP. ``refused_models`` (model name -> serial prefixes, from the
    mapping) are named in the error of a device the API does not serve. ``clock`` (epoch
    seconds) and ``nonce`` are for tests.
    """

    def __init__(
        self,
        api_url: str,
        access_key: str,
        secret_key: Secret,
        *,
        timeout: float,
        ca_file: Path | None = None,
        refused_models: Mapping[str, Sequence[str]] | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        if urlsplit(api_url).scheme != "https":  # the configuration checked the rest
            raise ValueError("api_url must be an https URL such as " + DEFAULT_OPEN_API)
        self._base_url = api_url.rstrip("/")
        self._access_key = access_key.strip()
        self._secret_key = secret_key.reveal().strip()
        self._timeout = timeout
        self._ca_file = ca_file
        self._clock = clock
        self._nonce = nonce
        # 1006: a device the Open API does not serve, a model EcoFlow has not opened to it.
        models = [f"{name} ({', '.join(p)})" for name, p in (refused_models or {}).items()]
        refused = f"; it refuses {', '.join(models)}" if models else ""
        not_served = (
            f"the Open API does not serve this device (1006){refused}:"
            " use the app login mode (powerocean.login) instead"
        )
        self._known_codes = {**_KNOWN_CODES, "1006": (not_served, True)}

    def certification(self) -> BrokerCredentials:
        """The MQTT broker credentials for this key pair."""
        where = "EcoFlow Open API certification"
        data = self._get(CERTIFICATION_PATH, {}, where, dict, "data")
        account = answer_text(data, "certificateAccount", where)
        # A fixed client id: the broker limits how many different ones an account uses.
        return certified_broker(data, where, f"ess-exporter-{account}"[:64], account, self._ca_file)

    def device_list(self) -> dict[str, str]:
        """The account's own devices (shared ones are not listed): serial -> name, the serial
        when the device has no name; entries without a serial are skipped."""
        data = self._get(DEVICE_LIST_PATH, {}, "EcoFlow Open API device list", list, "device list")
        entries = [e for e in data if isinstance(e, dict) and isinstance(e.get("sn"), str)]
        return {e["sn"]: str(e.get("deviceName") or e["sn"]) for e in entries if e["sn"]}

    def quota_all(self, serial: str) -> dict[str, Any]:
        """All quota values of one device, the ``data`` map as the API sends it."""
        where = f"EcoFlow Open API quota of {serial}"
        return self._get(QUOTA_ALL_PATH, {"sn": serial}, where, dict, "quota map")

    def _get(
        self, path: str, params: dict[str, str], where: str, data_type: type[T], what: str
    ) -> T:
        """Send a signed GET; return the answer's ``data`` (``what`` was asked for) if its
        ``code`` is "0" and the data is a ``data_type``; raise ApiError naming ``where``."""
        url = self._base_url + path + (f"?{urlencode(params)}" if params else "")
        status, location, body = fetch(
            "GET",
            url,
            self._signed_headers(params),
            where=where,
            secrets=(self._access_key, self._secret_key),
            ca_file=self._ca_file,
            timeout=self._timeout,
        )
        if 300 <= status < 400:
            to = f" to {self._clean(location)}" if location else ""
            message = f"redirected (HTTP {status}{to}), which is not followed: check api_url"
            raise ApiError(f"{where}: {message}", False)
        parsed = json_object(body) or {}
        code = str(parsed["code"]) if "code" in parsed else None
        if code in self._known_codes:
            message, permanent = self._known_codes[code]
            raise ApiError(f"{where}: {message}", permanent, code)
        if code not in (None, "0"):
            code, text = self._clean(code), self._clean(parsed.get("message", ""))
            raise ApiError(f"{where} rejected: code {code}: {text}", False, code)
        if status != 200:
            raise ApiError(f"{where}: HTTP {status}", False)
        if code is None:
            raise ApiError(f"{where}: the answer is not the API's JSON", False)
        if not isinstance(data := parsed.get("data"), data_type):
            raise ApiError(f"{where}: the answer has no {what}", False)
        return data

    def _signed_headers(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Headers for one request: a new nonce and timestamp each time. No Content-Type."""
        nonce = str(self._nonce())
        timestamp = str(int(self._clock() * 1000))
        sign = signature(params, self._access_key, self._secret_key, nonce, timestamp)
        return {"accessKey": self._access_key, "nonce": nonce, "timestamp": timestamp, "sign": sign}

    def _clean(self, text: Any) -> str:
        """Text from an answer, fit for a message: keys blanked first, then shortened."""
        return scrub(str(text), (self._access_key, self._secret_key))[:MAX_MESSAGE]


class QuotaPoller(threading.Thread):
    """A thread that fills silent quota streams from ``quota/all``.

    The Open API's MQTT stream is sparse and some values freeze unless something asks, so a
    device that sent nothing on the stream for ``interval`` seconds is asked for its whole
    quota map, at most once per ``interval`` (never below the limits others observed). A
    device the API will not serve (1006) is asked again after an hour only.
    """

    def __init__(
        self,
        api: OpenApiClient,
        sink: QuotaIngest,
        devices: Iterable[str],
        *,
        interval: float,
    ) -> None:
        super().__init__(name="powerocean-quota", daemon=True)
        self._api = api
        self._sink = sink
        self._devices = devices
        self._interval = interval
        #: When each device may be asked again, at the earliest.
        self._not_before: dict[str, float] = {}
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=5)

    def run(self) -> None:
        # Looks every second (cheap: nothing is asked before it is due), so a device that
        # the Open API's device list adds is asked for at once.
        while not self._stopping.is_set():
            for serial in list(self._devices):
                quiet_until = self._sink.last_stream(serial) + self._interval
                due = max(quiet_until, self._not_before.get(serial, 0.0))
                if not self._stopping.is_set() and time.time() >= due:
                    self._ask(serial)
            self._stopping.wait(1.0)

    def _ask(self, serial: str) -> None:
        self._not_before[serial] = time.time() + self._interval
        try:
            quotas = self._api.quota_all(serial)
        except ApiError as exc:
            if exc.permanent:
                pause = max(self._interval, PERMANENT_PAUSE_SECONDS)
                self._not_before[serial] = time.time() + pause
            log.error("PowerOcean %s: Open API quota/all failed: %s", serial[:64], exc)
            return
        self._sink.quota_all(serial, quotas)

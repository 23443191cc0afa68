"""quota/all over HTTPS for each device whose Open API quota stream went silent.

The Open API's MQTT stream is sparse and some values freeze unless something asks, so a
device that sent nothing on the stream for ``interval`` seconds is asked for its whole
quota map, at most once per ``interval`` (never below the limits others observed). A
device the API will not serve (1006) is asked again after an hour only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from exporter.powerocean.open_api import OpenApiClient, OpenApiError

log = logging.getLogger(__name__)

#: How long a device the API refused for good (1006) is left alone.
PERMANENT_PAUSE_SECONDS = 3600.0


class QuotaSink(Protocol):
    def quota_all(self, serial: str, quotas: Mapping[str, Any]) -> None: ...

    def last_stream(self, serial: str) -> float: ...


class QuotaPoller:
    """A thread that fills silent quota streams from ``quota/all``."""

    def __init__(
        self,
        api: OpenApiClient,
        sink: QuotaSink,
        devices: Iterable[str],
        *,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self._sink = sink
        self._devices = devices
        self._interval = interval
        self._clock = clock
        self._asked: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.requests = 0
        self.errors = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="powerocean-quota", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # Looks every second (cheap: nothing is asked before it is due), so a device that
        # the Open API's device list adds is asked for at once.
        while not self._stopping.is_set():
            for serial in list(self._devices):
                if not self._stopping.is_set() and self._due(serial, self._clock()):
                    self._ask(serial)
            self._stopping.wait(1.0)

    def _due(self, serial: str, now: float) -> bool:
        if now < self._paused_until.get(serial, 0.0):
            return False
        quiet_since = max(self._sink.last_stream(serial), self._asked.get(serial, 0.0))
        return now - quiet_since >= self._interval

    def _ask(self, serial: str) -> None:
        self._asked[serial] = self._clock()
        self.requests += 1
        try:
            quotas = self._api.quota_all(serial)
        except OpenApiError as exc:
            self.errors += 1
            if exc.permanent:
                self._paused_until[serial] = self._clock() + PERMANENT_PAUSE_SECONDS
            log.error("PowerOcean %s: Open API quota/all failed: %s", serial[:64], exc)
            return
        self._sink.quota_all(serial, quotas)

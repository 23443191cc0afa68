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
from collections.abc import Callable, Iterable

from exporter.powerocean.https import ApiError
from exporter.powerocean.open_api import OpenApiClient
from exporter.powerocean.quota import QuotaIngest

log = logging.getLogger(__name__)

#: How long a device the API refused for good (1006) is left alone.
PERMANENT_PAUSE_SECONDS = 3600.0


class QuotaPoller:
    """A thread that fills silent quota streams from ``quota/all``."""

    def __init__(
        self,
        api: OpenApiClient,
        sink: QuotaIngest,
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
        #: When each device may be asked again, at the earliest.
        self._not_before: dict[str, float] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

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
                if not self._stopping.is_set() and self._clock() >= self._due(serial):
                    self._ask(serial)
            self._stopping.wait(1.0)

    def _due(self, serial: str) -> float:
        """When ``serial`` is asked: its stream silent for an interval, and not asked since."""
        quiet_until = self._sink.last_stream(serial) + self._interval
        return max(quiet_until, self._not_before.get(serial, 0.0))

    def _ask(self, serial: str) -> None:
        self._not_before[serial] = self._clock() + self._interval
        try:
            quotas = self._api.quota_all(serial)
        except ApiError as exc:
            if exc.permanent:
                pause = max(self._interval, PERMANENT_PAUSE_SECONDS)
                self._not_before[serial] = self._clock() + pause
            log.error("PowerOcean %s: Open API quota/all failed: %s", serial[:64], exc)
            return
        self._sink.quota_all(serial, quotas)

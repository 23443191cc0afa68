"""When a session of the app protocol asks the PowerOcean systems for data.

The systems push their energy stream (96/33) and other reports freely only while someone asks
("data freezes unless the app is open"). So once subscribed, a session sends each system what
the app sends: the energy-stream switch, a get-all and the ``latestQuotas`` request; then the
switch every ``keepalive_seconds`` and latestQuotas every ``latest_quotas_seconds``. A setting
of 0, or ``request_all_on_connect: false``, leaves a request out. A system is sent only the
requests its model takes (the mapping's ``data_requests``): an Ocean 2 has no energy-stream
switch. Its model is asked each time, so one a frame tells later is heeded from then on.

A system that sent nothing for ``silent_after_seconds`` is sent the requests again, and again
each ``silent_after_seconds`` while it stays silent: requests are addressed to one system, and
asking again is what wakes a stalled one. A reconnect acts on the connection that every system
shares, so it is due only when no system sent anything for twice ``silent_after_seconds``. A
system switched off while others report then costs its requests, not a new login and a
reconnect every two minutes that would also cut the others' streams.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable

from exporter.powerocean.config import PowerOceanConfig
from exporter.powerocean.wire import (
    DATA_REQUESTS,
    ENERGY_STREAM,
    GET_ALL,
    LATEST_QUOTAS,
    DataRequest,
)

#: Requests to publish at one moment: each with the systems it goes to, in the app's order.
Due = list[tuple[DataRequest, tuple[str, ...]]]


class RequestSchedule:
    """The data requests of one session, from ``start`` (when it was subscribed, on the
    monotonic clock) on.

    ``heard`` runs on paho's network thread, the rest on the supervisor's. The tables of
    systems never change size after construction, so the two threads share them without a
    lock. ``requests_of(serial)`` are the requests a system takes (every one when not given).
    """

    def __init__(
        self,
        config: PowerOceanConfig,
        serials: Iterable[str],
        start: float,
        requests_of: Callable[[str], Collection[DataRequest]] = lambda serial: DATA_REQUESTS,
    ) -> None:
        intervals = {  # in the app's order, that of DATA_REQUESTS
            ENERGY_STREAM: config.keepalive_seconds,
            GET_ALL: math.inf if config.request_all_on_connect else 0.0,  # once per session
            LATEST_QUOTAS: config.latest_quotas_seconds,
        }
        #: The requests this session sends, each with its interval.
        self._intervals = {request: s for request, s in intervals.items() if s > 0}
        #: When each request is next due for every system: at the start, all of them.
        self._next = dict.fromkeys(self._intervals, start)
        self._silent_after = config.silent_after_seconds or math.inf  # 0: never silent
        #: When each system was last heard from, and last asked again (the start is both).
        self._heard = dict.fromkeys(serials, start)
        self._asked = dict(self._heard)
        self._last_heard = start
        self._requests_of = requests_of

    def heard(self, serial: str, at: float) -> None:
        """A payload of ``serial`` arrived at ``at``; other serials are no system of ours."""
        if serial in self._heard:
            self._heard[serial] = at
            self._last_heard = at

    def due(self, now: float) -> Due:
        """What to publish now; each request handed out is scheduled again."""
        quiet = [serial for serial in self._heard if now >= self._quiet_until(serial)]
        for serial in quiet:
            self._asked[serial] = now
        due: Due = []
        for request, interval in self._intervals.items():
            asked = quiet
            if now >= self._next[request]:
                asked = list(self._heard)
                self._next[request] = now + interval
            takers = sorted(serial for serial in asked if request in self._requests_of(serial))
            if takers:
                due.append((request, tuple(takers)))
        return due

    def silent(self, now: float) -> bool:
        """True when no system sent anything for twice ``silent_after_seconds``."""
        return now >= self._last_heard + 2 * self._silent_after

    def next_at(self) -> float | None:
        """When something may be due next; None when nothing ever will be."""
        times = [*self._next.values(), self._last_heard + 2 * self._silent_after]
        soonest = min(times + [self._quiet_until(serial) for serial in self._heard])
        return None if math.isinf(soonest) else soonest

    def _quiet_until(self, serial: str) -> float:
        """When ``serial`` is due to be asked again if it stays silent."""
        return max(self._heard[serial], self._asked[serial]) + self._silent_after

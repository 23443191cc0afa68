"""One Modbus TCP device read on demand: its connection, its counters, and a scrape that
keeps within a timeout and never raises for device trouble.

A device package subclasses ``ModbusTarget`` with what one scrape reads (``_read_all``),
asking for registers with ``read``, which counts the requests and exception answers.
Scrapes of one target wait for each other and share one connection, closed when a scrape
is cut off (its state is unknown) or after ``IDLE_CLOSE_SECONDS`` unused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from exporter.refu.client import READ_FAILURES, DeviceError, ExceptionAnswer, ModbusReader

#: Longest target name a log line shows: a /probe target is chosen by the client.
LOGGED_NAME_CHARS = 64
#: A connection unused this long is closed, so an idle exporter holds no device socket.
IDLE_CLOSE_SECONDS = 120.0
#: What a target learned of its device (a split read, a chain) is learned afresh this
#: often: firmware may change.
RELEARN_PLAN_SECONDS = 3600.0


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    unit_id: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def shown(self) -> str:
        """The address for log lines: printable and at most ``LOGGED_NAME_CHARS`` long."""
        text = str(self).encode("unicode_escape").decode("ascii")
        return text if len(text) <= LOGGED_NAME_CHARS else text[: LOGGED_NAME_CHARS - 3] + "..."


#: What one scrape of a device reads.
Values = TypeVar("Values")


@dataclass(frozen=True)
class ScrapeResult(Generic[Values]):
    """How one scrape went, what it read (None when it failed), and the target's counts."""

    up: bool
    duration_seconds: float
    values: Values | None
    requests: int
    exceptions: int
    errors: Mapping[str, int]


class ModbusTarget(Generic[Values]):
    """Reads one device on demand; ``device`` names its kind in log lines, which go to the
    logger of the device package's module (``exporter.refu.target``)."""

    device = "Modbus device"
    #: Reasons a scrape fails; each is exported from the start so that rate() works.
    failure_reasons: tuple[str, ...] = ("timeout", *READ_FAILURES)

    def __init__(self, address: Address, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self._log = logging.getLogger(type(self).__module__)
        self._clock = clock
        #: When the target was last handed out or finished a scrape (``clock`` time).
        self.last_used = clock()
        self._reader = ModbusReader(address.host, address.port, address.unit_id)
        self._lock = asyncio.Lock()
        self._idle_close: asyncio.TimerHandle | None = None
        self.requests = 0
        self.exceptions = 0
        self.errors = dict.fromkeys(self.failure_reasons, 0)

    async def scrape(self, timeout: float) -> ScrapeResult[Values]:
        """Read the device within ``timeout`` seconds; never raises for device trouble."""
        started = time.perf_counter()
        values: Values | None = None
        try:
            async with asyncio.timeout(timeout), self._lock:
                try:
                    values = await self._read_all()
                except BaseException:
                    # Cut off mid-request (timeout) or broken: the connection's state is
                    # unknown, so the next scrape starts on a fresh one.
                    self._reader.close()
                    raise
        except TimeoutError:
            self._failed("timeout", f"no complete answer within {timeout:g} s")
        except DeviceError as exc:
            self._failed(exc.reason, exc.detail)
        except Exception as exc:
            # Whatever else an answer can provoke must not take other targets down with it.
            self._log.debug(
                "scrape of %s %s failed", self.device, self.address.shown, exc_info=True
            )
            self._failed("invalid_response", f"{type(exc).__name__}: {exc}")
        duration = time.perf_counter() - started
        self._schedule_idle_close()
        self.last_used = self._clock()
        counts = self.requests, self.exceptions, dict(self.errors)
        return ScrapeResult(values is not None, duration, values, *counts)

    async def _read_all(self) -> Values:
        """What one scrape reads; raises DeviceError (or anything) when it cannot."""
        raise NotImplementedError

    async def read(self, function: int, register: int, count: int) -> list[int]:
        """``count`` registers (or bits) from ``register`` with the read ``function``; raises
        ExceptionAnswer for a request that can never succeed, DeviceError for any other."""
        await self._reader.connect()
        self.requests += 1
        try:
            return await self._reader.read(function, register, count)
        except ExceptionAnswer as answer:
            self.exceptions += 1
            if not answer.permanent:
                raise answer.as_error() from None
            raise

    def _failed(self, reason: str, detail: str) -> None:
        self.errors[reason] += 1
        self._log.warning(
            "scrape of %s %s failed: reason=%s: %s", self.device, self.address.shown, reason, detail
        )

    def _schedule_idle_close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        loop = asyncio.get_running_loop()
        self._idle_close = loop.call_later(IDLE_CLOSE_SECONDS, self._reader.close)

    def close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        self._reader.close()

"""One Modbus TCP device read on demand: its connection, its counters, and a scrape that
keeps within a timeout and never raises for device trouble.

A device package subclasses ``ModbusTarget`` with what one scrape reads (``_read_all``),
asking for registers with ``read_registers``, which counts the requests and exception
answers. Scrapes of one target wait for each other and share one connection, closed when
a scrape is cut off (its state is unknown) or after ``IDLE_CLOSE_SECONDS`` unused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from exporter.refu.client import READ_FAILURES, DeviceError, ExceptionAnswer, ModbusReader
from exporter.refu.target import IDLE_CLOSE_SECONDS, Address, TargetHealth

log = logging.getLogger(__name__)

#: What one scrape of a device reads.
Values = TypeVar("Values")


@dataclass(frozen=True)
class ScrapeResult(Generic[Values]):
    """How one scrape went; ``values`` is None when it failed."""

    up: bool
    duration_seconds: float
    values: Values | None = None


class ModbusTarget(Generic[Values]):
    """Reads one device on demand; ``device`` names its kind in log lines."""

    device = "Modbus device"
    #: Reasons a scrape fails; each is exported from the start so that rate() works.
    failure_reasons: tuple[str, ...] = ("timeout", *READ_FAILURES)

    def __init__(self, address: Address, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self._clock = clock
        #: When the target was last handed out or finished a scrape (``clock`` time).
        self.last_used = clock()
        self._reader: ModbusReader | None = None
        self._lock = asyncio.Lock()
        self._idle_close: asyncio.TimerHandle | None = None
        self.requests = 0
        self.exceptions = 0
        self.errors = dict.fromkeys(self.failure_reasons, 0)

    def health(self, result: ScrapeResult[Values]) -> TargetHealth:
        """``result`` with this target's running counts."""
        up, duration = result.up, result.duration_seconds
        return TargetHealth(up, duration, self.requests, self.exceptions, dict(self.errors))

    async def scrape(self, timeout: float) -> ScrapeResult[Values]:
        """Read the device within ``timeout`` seconds; never raises for device trouble."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout), self._lock:
                try:
                    values = await self._read_all()
                except BaseException:
                    # Cut off mid-request (timeout) or broken: the connection's state is
                    # unknown, so the next scrape starts on a fresh one.
                    self._disconnect()
                    raise
            result = ScrapeResult(True, time.perf_counter() - started, values)
        except TimeoutError:
            result = self._failed(started, "timeout", f"no complete answer within {timeout:g} s")
        except DeviceError as exc:
            result = self._failed(started, exc.reason, exc.detail)
        except Exception as exc:
            # Whatever else an answer can provoke must not take other targets down with it.
            log.debug("scrape of %s %s failed", self.device, self.address.shown, exc_info=True)
            result = self._failed(started, "invalid_response", f"{type(exc).__name__}: {exc}")
        self._schedule_idle_close()
        self.last_used = self._clock()
        return result

    async def _read_all(self) -> Values:
        """What one scrape reads; raises DeviceError (or anything) when it cannot."""
        raise NotImplementedError

    async def read_registers(self, register: int, count: int) -> list[int]:
        """``count`` holding registers from ``register``; raises ExceptionAnswer."""
        if self._reader is None:
            self._reader = ModbusReader(self.address.host, self.address.port, self.address.unit_id)
        await self._reader.connect()
        self.requests += 1
        try:
            return await self._reader.read(3, register, count)
        except ExceptionAnswer:
            self.exceptions += 1
            raise

    def _failed(self, started: float, reason: str, detail: str) -> ScrapeResult[Values]:
        self.errors[reason] += 1
        log.warning(
            "scrape of %s %s failed: reason=%s: %s", self.device, self.address.shown, reason, detail
        )
        return ScrapeResult(False, time.perf_counter() - started)

    def _disconnect(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _schedule_idle_close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        loop = asyncio.get_running_loop()
        self._idle_close = loop.call_later(IDLE_CLOSE_SECONDS, self._disconnect)

    def close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        self._disconnect()

"""One REFU device: its connection, the read plan learned for it, and its scrape."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.refu.channels import RefuChannel, RefuMapping
from exporter.refu.client import READ_FAILURES, DeviceError, ExceptionAnswer, ModbusReader
from exporter.refu.plan import RegisterBlock

log = logging.getLogger(__name__)

#: Reasons a scrape fails; each is exported from the start so that rate() works.
FAILURE_REASONS = ("timeout", *READ_FAILURES)
#: Longest target name a log line shows: a /probe target is chosen by the client.
LOGGED_NAME_CHARS = 64
#: A connection unused this long is closed, so an idle exporter holds no device socket.
IDLE_CLOSE_SECONDS = 120.0
#: Blocks split after exception answers are planned afresh this often (firmware may change).
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


@dataclass(frozen=True)
class ScrapeResult:
    """How one scrape of a REFU target went, what it read, and the target's running counts."""

    up: bool
    duration_seconds: float
    values: Mapping[RefuChannel, Any]
    requests: int
    exceptions: int
    errors: Mapping[str, int]


class RefuTarget:
    """Reads one REFU on demand. Scrapes of the same target wait for each other."""

    def __init__(
        self,
        address: Address,
        mapping: RefuMapping,
        plan: Sequence[RegisterBlock],
        *,
        settings: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        self._clock = clock
        #: When the target was last handed out or finished a scrape (``clock`` time).
        self.last_used = clock()
        self._mapping = mapping
        self._settings = dict(settings or {})
        #: The mapping's read plan, and this device's: blocks it refuses are split.
        self._mapping_plan = tuple(plan)
        self._plan = list(plan)
        self._planned_at = clock()
        self._reader = ModbusReader(address.host, address.port, address.unit_id)
        self._lock = asyncio.Lock()
        self._idle_close: asyncio.TimerHandle | None = None
        self.requests = 0
        self.exceptions = 0
        self.errors = dict.fromkeys(FAILURE_REASONS, 0)

    async def scrape(self, timeout: float) -> ScrapeResult:
        """Read every channel within ``timeout`` seconds; never raises for device trouble."""
        started = time.perf_counter()
        values: dict[RefuChannel, Any] | None = None
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
            log.debug("scrape of REFU %s failed", self.address.shown, exc_info=True)
            self._failed("invalid_response", f"{type(exc).__name__}: {exc}")
        duration = time.perf_counter() - started
        self._schedule_idle_close()
        self.last_used = self._clock()
        counts = self.requests, self.exceptions, dict(self.errors)
        return ScrapeResult(values is not None, duration, values or {}, *counts)

    def _failed(self, reason: str, detail: str) -> None:
        self.errors[reason] += 1
        log.warning("scrape of REFU %s failed: reason=%s: %s", self.address.shown, reason, detail)

    async def _read_all(self) -> dict[RefuChannel, Any]:
        if self._clock() - self._planned_at > RELEARN_PLAN_SECONDS:
            self._plan = list(self._mapping_plan)
            self._planned_at = self._clock()
        await self._reader.connect()

        read: dict[RefuChannel, Any] = {}
        index = 0
        while index < len(self._plan):
            block = self._plan[index]
            self.requests += 1
            try:
                words = await self._reader.read(block.function, block.start, block.count)
            except ExceptionAnswer as answer:
                self.exceptions += 1
                if not answer.permanent:
                    raise answer.as_error() from None
                self._plan[index : index + 1] = self._split(block, answer)
                continue
            read.update(block.values(words))
            index += 1

        read.update(self._mapping.derived_values(read, self._settings))
        return read

    def _split(self, block: RegisterBlock, answer: ExceptionAnswer) -> list[RegisterBlock]:
        """What to read instead of a refused block; a refused single channel is dropped."""
        if len(block.channels) > 1:
            return list(block.split())
        log.info(
            "REFU %s refuses register %#x (%s): %s; not read for the next hour",
            self.address.shown,
            block.start,
            block.channels[0].seed_id,
            answer,
        )
        return []

    def _schedule_idle_close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        loop = asyncio.get_running_loop()
        self._idle_close = loop.call_later(IDLE_CLOSE_SECONDS, self._reader.close)

    def close(self) -> None:
        if self._idle_close is not None:
            self._idle_close.cancel()
        self._reader.close()

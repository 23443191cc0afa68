"""The REFU's collector: reads targets when Prometheus scrapes and turns what they
answered into families.

``RefuCollector`` is what the HTTP server sees of the REFU: the configured targets for
``/metrics`` and ``/probe?module=refu&target=HOST:PORT[&unit_id=N]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlencode

from exporter.config import parse_address
from exporter.exposition import AnyFamily, Family
from exporter.metrics import ChannelFamilies, Families, HealthMetric
from exporter.model import Kind
from exporter.modules import BadRequest
from exporter.refu.config import DEFAULT_MODBUS_PORT
from exporter.refu.pool import TargetPool
from exporter.refu.target import Address, RefuTarget, ScrapeResult

REFU_UP = HealthMetric(
    "refu",
    "refu_up",
    Kind.GAUGE,
    "1 when the last scrape read the REFU, 0 when it could not.",
    ("target",),
)
REFU_SCRAPE_DURATION = HealthMetric(
    "refu",
    "refu_scrape_duration_seconds",
    Kind.GAUGE,
    "Time the last scrape of the REFU took.",
    ("target",),
    "seconds",
)
REFU_MODBUS_REQUESTS = HealthMetric(
    "refu",
    "refu_modbus_requests_total",
    Kind.COUNTER,
    "Modbus read requests sent to the REFU.",
    ("target",),
)
REFU_MODBUS_EXCEPTIONS = HealthMetric(
    "refu",
    "refu_modbus_exceptions_total",
    Kind.COUNTER,
    "Modbus exception answers from the REFU; the refused block is split and read again.",
    ("target",),
)
REFU_SCRAPE_ERRORS = HealthMetric(
    "refu",
    "refu_scrape_errors_total",
    Kind.COUNTER,
    "Scrapes of the REFU that failed, by reason.",
    ("target", "reason"),
)

#: The REFU's health metrics, in the order ``ess-exporter metrics`` lists them.
REFU_HEALTH = (
    REFU_UP,
    REFU_SCRAPE_DURATION,
    REFU_MODBUS_REQUESTS,
    REFU_MODBUS_EXCEPTIONS,
    REFU_SCRAPE_ERRORS,
)


def refu_health(targets: Sequence[tuple[str, ScrapeResult]]) -> Iterator[Family]:
    """Health of the scraped REFU targets, one series per target."""
    yield REFU_UP.family([((name,), float(h.up)) for name, h in targets])
    yield REFU_SCRAPE_DURATION.family([((name,), h.duration_seconds) for name, h in targets])
    yield REFU_MODBUS_REQUESTS.family([((name,), h.requests) for name, h in targets])
    yield REFU_MODBUS_EXCEPTIONS.family([((name,), h.exceptions) for name, h in targets])
    yield REFU_SCRAPE_ERRORS.family(
        [((name, reason), n) for name, h in targets for reason, n in sorted(h.errors.items())]
    )


class RefuCollector:
    """The REFU for the HTTP server (a ``/probe`` module): configured targets, and any one
    through ``/probe``.

    A scrape keeps within ``timeout`` (the configuration's) and what Prometheus allows.
    """

    name = "refu"

    def __init__(
        self, pool: TargetPool, targets: Sequence[tuple[str, RefuTarget]], timeout: float
    ) -> None:
        self._pool = pool
        self._targets = list(targets)
        self._timeout = timeout
        self._channels = ChannelFamilies(pool.mapping.channels, ("target",))

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        if not self._targets:
            return []
        return await self._read(self._targets, self._within(timeout))

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        target = params.get("target", "")
        if not target:
            raise BadRequest("'target' parameter is missing")
        try:
            host, port = parse_address(target, DEFAULT_MODBUS_PORT)
            unit_id = int(params.get("unit_id", "1"))
        except ValueError as exc:
            raise BadRequest(f"bad target or unit_id: {exc}") from None
        if not 0 <= unit_id <= 255:
            raise BadRequest("unit_id must be 0..255")
        refu = self._pool.get(Address(host, port, unit_id))
        return await self._read([(target, refu)], self._within(timeout))

    async def _read(
        self, targets: Sequence[tuple[str, RefuTarget]], timeout: float
    ) -> list[AnyFamily]:
        """Scrape ``targets`` at once, within ``timeout``: their channels' families and health."""
        if len(targets) == 1:  # a /probe: no task of its own, one round of the loop less
            results = [await targets[0][1].scrape(timeout)]
        else:
            results = await asyncio.gather(*(target.scrape(timeout) for _, target in targets))
        scraped = [(name, result) for (name, _), result in zip(targets, results, strict=True)]
        families = Families()
        channels = self._channels.channels
        self._channels.add(
            families, [((name,), [r.values.get(c) for c in channels]) for name, r in scraped]
        )
        return [*families, *refu_health(scraped)]

    def links(self) -> list[tuple[str, str]]:
        """The ``/probe`` query of each configured target, with its name and address."""
        links = []
        for name, target in self._targets:
            address = target.address
            query = {"module": self.name, "target": str(address), "unit_id": address.unit_id}
            links.append((f"{name}: {address}", urlencode(query)))
        return links

    def _within(self, allowed: float | None) -> float:
        return self._timeout if allowed is None else max(0.1, min(self._timeout, allowed))

"""The REFU's collector: reads targets when Prometheus scrapes and turns what they
answered into families.

``RefuCollector`` is what the HTTP server sees of the REFU: the configured targets for
``/metrics`` and ``/probe?module=refu&target=HOST:PORT[&unit_id=N]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from exporter.exposition import AnyFamily
from exporter.metrics import ChannelFamilies, Families
from exporter.modbus.health import ModbusHealth
from exporter.modbus.pool import probed_address
from exporter.refu.config import DEFAULT_MODBUS_PORT
from exporter.refu.pool import TargetPool
from exporter.refu.target import RefuTarget

#: The REFU's health metrics: refu_up, refu_scrape_duration_seconds, refu_modbus_*_total, ...
REFU_HEALTH = ModbusHealth.of("refu", "the REFU")


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
        refu = self._pool.get(probed_address(params, DEFAULT_MODBUS_PORT))
        return await self._read([(params["target"], refu)], self._within(timeout))

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
            families,
            [((name,), [(r.values or {}).get(c) for c in channels]) for name, r in scraped],
        )
        return [*families, *REFU_HEALTH.families(scraped)]

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

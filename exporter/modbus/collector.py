"""The devices of one Modbus protocol as the HTTP server sees them (a ``/probe`` module):
the configured targets for ``/metrics``, and any one through
``/probe?module=NAME&target=HOST:PORT[&unit_id=N]``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic
from urllib.parse import urlencode

from exporter.exposition import AnyFamily
from exporter.modbus.config import ModbusConfig
from exporter.modbus.pool import TargetPool, probed_address
from exporter.modbus.target import Address, ModbusTarget, ScrapeResult, Values

#: Makes a target: its address and settings -> the target.
MakeTarget = Callable[[Address, Mapping[str, Any]], ModbusTarget[Values]]


class ModbusCollector(Generic[Values]):
    """Reads targets when Prometheus scrapes, within the configured timeout and what
    Prometheus allows; a subclass turns what they answered into families (``_families``)."""

    name: str

    def __init__(self, config: ModbusConfig, make_target: MakeTarget[Values]) -> None:
        self._timeout = config.timeout_seconds
        self._targets = [
            (t.name, make_target(Address(t.host, t.port, t.unit_id), t.settings))
            for t in config.targets
        ]
        self._pool = TargetPool(
            lambda address: make_target(address, {}),
            max_targets=config.probe_targets_max,
            idle_seconds=config.probe_idle_seconds,
            # No scrape takes longer than the configured timeout: twice that is "in use".
            busy_seconds=max(60.0, 2 * config.timeout_seconds),
        )

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        if not self._targets:
            return []
        return await self._read(self._targets, self._within(timeout))

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        target = self._pool.get(probed_address(params))
        return await self._read([(params["target"], target)], self._within(timeout))

    async def _read(
        self, targets: Sequence[tuple[str, ModbusTarget[Values]]], timeout: float
    ) -> list[AnyFamily]:
        """Scrape ``targets`` at once, within ``timeout``."""
        if len(targets) == 1:  # a /probe: no task of its own, one round of the loop less
            results = [await targets[0][1].scrape(timeout)]
        else:
            results = await asyncio.gather(*(target.scrape(timeout) for _, target in targets))
        return self._families(
            [(name, result) for (name, _), result in zip(targets, results, strict=True)]
        )

    def _families(self, scraped: Sequence[tuple[str, ScrapeResult[Values]]]) -> list[AnyFamily]:
        """The families of what each target (by name) answered, and their health."""
        raise NotImplementedError

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

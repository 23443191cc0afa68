"""The SunSpec collector: reads targets when Prometheus scrapes and turns the group
instances they answered into families.

``SunSpecCollector`` is what the HTTP server sees of SunSpec devices: the configured
targets for ``/metrics`` and ``/probe?module=sunspec&target=HOST:PORT[&unit_id=N]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from exporter.exposition import AnyFamily
from exporter.metrics import Families, HealthMetric
from exporter.modbus.health import ModbusHealth
from exporter.modbus.pool import TargetPool, probed_address
from exporter.modbus.target import Address, ScrapeResult
from exporter.model import Kind
from exporter.refu.config import DEFAULT_MODBUS_PORT
from exporter.sunspec.channels import SunSpecMapping, load_sunspec_mapping
from exporter.sunspec.config import SunSpecConfig
from exporter.sunspec.points import Group
from exporter.sunspec.target import SunSpecTarget, SunSpecValues

SUNSPEC_HEALTH = ModbusHealth.of("sunspec", "the SunSpec device")
SUNSPEC_MODEL = HealthMetric(
    "sunspec",
    "sunspec_model_info",
    Kind.INFO,
    "A model of the SunSpec device's chain: its id, its name (empty for a model the exporter "
    "has no definition of, or does not read) and the register of its header.",
    ("target", "model", "name", "register"),
)
#: The SunSpec metrics the exporter makes itself, in the order ``ess-exporter metrics`` lists them.
SUNSPEC_HEALTH_METRICS = (*SUNSPEC_HEALTH, SUNSPEC_MODEL)


class SunSpecCollector:
    """SunSpec devices for the HTTP server (a ``/probe`` module): configured targets, and
    any one through ``/probe``. A scrape keeps within ``timeout`` (the configuration's) and
    what Prometheus allows."""

    name = "sunspec"

    def __init__(
        self,
        pool: TargetPool[SunSpecTarget],
        targets: Sequence[tuple[str, SunSpecTarget]],
        timeout: float,
    ) -> None:
        self._pool = pool
        self._targets = list(targets)
        self._timeout = timeout

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        if not self._targets:
            return []
        return await self._read(self._targets, self._within(timeout))

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        target = self._pool.get(probed_address(params, DEFAULT_MODBUS_PORT))
        return await self._read([(params["target"], target)], self._within(timeout))

    async def _read(
        self, targets: Sequence[tuple[str, SunSpecTarget]], timeout: float
    ) -> list[AnyFamily]:
        """Scrape ``targets`` at once, within ``timeout``: their values' families and health."""
        if len(targets) == 1:  # a /probe: no task of its own
            results = [await targets[0][1].scrape(timeout)]
        else:
            results = await asyncio.gather(*(target.scrape(timeout) for _, target in targets))
        families = Families()
        by_group: dict[Group, list[tuple[tuple[str, ...], Sequence[Any]]]] = {}
        for (name, _), result in zip(targets, results, strict=True):
            for group, numbers, raws in result.values.instances if result.values else ():
                by_group.setdefault(group, []).append(((name, *numbers), raws))
        for group, devices in by_group.items():
            group.families.add(families, devices)
        scraped = [(name, result) for (name, _), result in zip(targets, results, strict=True)]
        return [
            *families,
            *SUNSPEC_HEALTH.families(scraped),
            SUNSPEC_MODEL.info(_chain_labels(targets, results)),
        ]

    def links(self) -> list[tuple[str, str]]:
        return [
            (f"{name}: {target.address}", _probe_query(target.address))
            for name, target in self._targets
        ]

    def _within(self, allowed: float | None) -> float:
        return self._timeout if allowed is None else max(0.1, min(self._timeout, allowed))


def _chain_labels(
    targets: Sequence[tuple[str, SunSpecTarget]],
    results: Sequence[ScrapeResult[SunSpecValues]],
) -> list[tuple[str, str, str, str]]:
    """The labels of ``SUNSPEC_MODEL``, one set per model of each chain read."""
    return [
        (name, str(entry.id), entry.model.name if entry.model else "", str(entry.register))
        for (name, _), result in zip(targets, results, strict=True)
        if result.values
        for entry in result.values.chain.models
    ]


def _probe_query(address: Address) -> str:
    return urlencode(
        {"module": SunSpecCollector.name, "target": str(address), "unit_id": address.unit_id}
    )


def sunspec_module(
    config: SunSpecConfig, mapping: SunSpecMapping | None = None
) -> SunSpecCollector:
    """The ``sunspec`` module for the configuration: its configured targets and its pool."""
    models = mapping or load_sunspec_mapping()
    pool = TargetPool(
        lambda address: SunSpecTarget(address, models),
        max_targets=config.probe_targets_max,
        idle_seconds=config.probe_idle_seconds,
        # No scrape takes longer than the configured timeout: twice that is "in use".
        busy_seconds=max(60.0, 2 * config.timeout_seconds),
    )
    targets = [
        (t.name, SunSpecTarget(Address(t.host, t.port, t.unit_id), models)) for t in config.targets
    ]
    return SunSpecCollector(pool, targets, config.timeout_seconds)

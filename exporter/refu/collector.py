"""The REFU's collector: reads targets when Prometheus scrapes and turns what they
answered into families, for ``/metrics`` and ``/probe?module=refu``."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.exposition import AnyFamily
from exporter.metrics import ChannelFamilies, Families
from exporter.modbus.collector import ModbusCollector
from exporter.modbus.health import ModbusHealth
from exporter.modbus.target import ScrapeResult
from exporter.refu.channels import RefuMapping
from exporter.refu.config import RefuConfig
from exporter.refu.plan import plan_reads
from exporter.refu.target import RefuTarget, RefuValues

#: The REFU's health metrics: refu_up, refu_scrape_duration_seconds, refu_modbus_*_total, ...
REFU_HEALTH = ModbusHealth("refu", "the REFU")


class RefuCollector(ModbusCollector[RefuValues]):
    """Every target starts from the mapping's read plan. A device that is both configured
    and probed has two targets, so each job's counters count only its own requests."""

    name = "refu"

    def __init__(self, config: RefuConfig, mapping: RefuMapping) -> None:
        plan = plan_reads(mapping.register_channels, config.max_gap)
        super().__init__(
            config, lambda address, settings: RefuTarget(address, mapping, plan, settings=settings)
        )
        self._channels = ChannelFamilies(mapping.channels, ("target",))

    def _families(self, scraped: Sequence[tuple[str, ScrapeResult[RefuValues]]]) -> list[AnyFamily]:
        families = Families()
        channels = self._channels.channels
        self._channels.add(
            families,
            [((name,), [(r.values or {}).get(c) for c in channels]) for name, r in scraped],
        )
        return [*families, *REFU_HEALTH.families(scraped)]

"""The SunSpec collector: reads targets when Prometheus scrapes and turns the group
instances they answered into families, for ``/metrics`` and ``/probe?module=sunspec``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.exposition import AnyFamily
from exporter.metrics import Families, HealthMetric
from exporter.modbus.collector import ModbusCollector
from exporter.modbus.health import ModbusHealth
from exporter.modbus.target import ScrapeResult
from exporter.model import Kind
from exporter.sunspec.channels import load_sunspec_mapping
from exporter.sunspec.config import SunSpecConfig
from exporter.sunspec.points import Group
from exporter.sunspec.target import SunSpecTarget, SunSpecValues

SUNSPEC_HEALTH = ModbusHealth("sunspec", "the SunSpec device")
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


class SunSpecCollector(ModbusCollector[SunSpecValues]):
    """SunSpec devices, decoded by the shipped SunSpec mapping."""

    name = "sunspec"

    def __init__(self, config: SunSpecConfig) -> None:
        mapping = load_sunspec_mapping()
        super().__init__(config, lambda address, _: SunSpecTarget(address, mapping))

    def _families(
        self, scraped: Sequence[tuple[str, ScrapeResult[SunSpecValues]]]
    ) -> list[AnyFamily]:
        families = Families()
        by_group: dict[Group, list[tuple[tuple[str, ...], Sequence[Any]]]] = {}
        for name, result in scraped:
            for group, numbers, raws in result.values.instances if result.values else ():
                by_group.setdefault(group, []).append(((name, *numbers), raws))
        for group, devices in by_group.items():
            group.families.add(families, devices)
        models = [
            (name, str(entry.id), entry.model.name if entry.model else "", str(entry.register))
            for name, result in scraped
            if result.values
            for entry in result.values.chain.models
        ]
        return [*families, *SUNSPEC_HEALTH.families(scraped), SUNSPEC_MODEL.info(models)]

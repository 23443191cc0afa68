"""The ``refu`` section of the configuration: scrape settings and the configured targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exporter.config import Reader, SettingCheck, section_keys
from exporter.modbus.config import ModbusConfig, read_modbus_keys


@dataclass(frozen=True)
class RefuConfig(ModbusConfig):
    max_gap: int = 10


def read_refu_section(
    reader: Reader, data: Any, settings: Mapping[str, SettingCheck]
) -> RefuConfig:
    section = reader.section(data, "refu", section_keys(RefuConfig))
    return RefuConfig(
        *read_modbus_keys(reader, section, "refu", settings),
        max_gap=reader.whole_number(section, "max_gap", "refu", 10, 0, 124),
    )

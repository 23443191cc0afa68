"""The ``sunspec`` section of the configuration: scrape settings and the configured targets.

```yaml
sunspec:
  timeout_seconds: 3
  targets:
    - {name: refustore-1, address: 192.0.2.20:502, unit_id: 1}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exporter.config import Reader, section_keys
from exporter.modbus.config import ModbusConfig, read_modbus_keys


@dataclass(frozen=True)
class SunSpecConfig(ModbusConfig):
    """A SunSpec target has no settings of its own."""


def read_sunspec_section(reader: Reader, data: Any) -> SunSpecConfig:
    section = reader.section(data, "sunspec", section_keys(SunSpecConfig))
    return SunSpecConfig(*read_modbus_keys(reader, section, "sunspec", {}))

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
from exporter.refu.config import read_target


@dataclass(frozen=True)
class SunSpecTargetConfig:
    name: str
    host: str
    port: int
    unit_id: int


@dataclass(frozen=True)
class SunSpecConfig:
    timeout_seconds: float = 3.0
    targets: tuple[SunSpecTargetConfig, ...] = ()
    #: /probe targets kept for their counters and chains, and how long one unused stays.
    probe_targets_max: int = 1024
    probe_idle_seconds: float = 600.0


def read_sunspec_section(reader: Reader, data: Any) -> SunSpecConfig:
    section = reader.section(data, "sunspec", section_keys(SunSpecConfig))
    timeout = reader.number(section, "timeout_seconds", "sunspec", 3.0, minimum=0.1)
    probe_max = reader.whole_number(section, "probe_targets_max", "sunspec", 1024, 1, 1_000_000)
    probe_idle = reader.number(section, "probe_idle_seconds", "sunspec", 600, minimum=1)
    targets = reader.targets(section, "sunspec", lambda entry, where: _target(reader, entry, where))
    return SunSpecConfig(timeout, tuple(targets), probe_max, probe_idle)


def _target(reader: Reader, data: Any, where: str) -> SunSpecTargetConfig | None:
    target = read_target(reader, data, where, settings={})
    if target is None:
        return None
    return SunSpecTargetConfig(target.name, target.host, target.port, target.unit_id)

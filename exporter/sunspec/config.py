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

from exporter.config import Reader, parse_address, section_keys
from exporter.refu.config import DEFAULT_MODBUS_PORT


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
    entries = section.get("targets", [])
    if not isinstance(entries, list):
        reader.problem("sunspec.targets", "must be a list")
        entries = []
    targets = [
        target
        for index, entry in enumerate(entries)
        if (target := _target(reader, entry, f"sunspec.targets[{index}]"))
    ]
    names = [t.name for t in targets]
    for name in sorted({n for n in names if names.count(n) > 1}):
        reader.problem("sunspec.targets", f"name {name!r} is used twice")
    return SunSpecConfig(timeout, tuple(targets), probe_max, probe_idle)


def _target(reader: Reader, data: Any, where: str) -> SunSpecTargetConfig | None:
    entry = reader.section(data, where, ("name", "address", "unit_id"))
    name = reader.text(entry, "name", where)
    if name and not name.isprintable():
        reader.problem(f"{where}.name", "must not contain control characters")
    address = reader.text(entry, "address", where)
    unit_id = reader.whole_number(entry, "unit_id", where, 1, 0, 255)
    if not address:
        return None
    try:
        host, port = parse_address(address, DEFAULT_MODBUS_PORT)
    except ValueError as exc:
        reader.problem(f"{where}.address", str(exc))
        return None
    return SunSpecTargetConfig(name, host, port, unit_id)

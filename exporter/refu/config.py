"""The ``refu`` section of the configuration: scrape settings and the configured targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exporter.config import Reader, SettingCheck, parse_address, section_keys

#: The Modbus TCP port of a target address that names none.
DEFAULT_MODBUS_PORT = 502


@dataclass(frozen=True)
class RefuTargetConfig:
    name: str
    host: str
    port: int
    unit_id: int
    #: Values of the channels that are configured, not read (alias, capacity, min SoC ...).
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class RefuConfig:
    timeout_seconds: float = 3.0
    max_gap: int = 10
    targets: tuple[RefuTargetConfig, ...] = ()
    #: /probe targets kept for their counters and read plans, and how long one unused stays.
    probe_targets_max: int = 1024
    probe_idle_seconds: float = 600.0


def read_refu_section(
    reader: Reader, data: Any, settings: Mapping[str, SettingCheck]
) -> RefuConfig:
    section = reader.section(data, "refu", section_keys(RefuConfig))
    targets = reader.targets(
        section, "refu", lambda entry, where: read_target(reader, entry, where, settings)
    )
    return RefuConfig(
        timeout_seconds=reader.number(section, "timeout_seconds", "refu", 3.0, minimum=0.1),
        max_gap=reader.whole_number(section, "max_gap", "refu", 10, 0, 124),
        targets=tuple(targets),
        probe_targets_max=reader.whole_number(section, "probe_targets_max", "refu", 1024, 1, 10**6),
        probe_idle_seconds=reader.number(section, "probe_idle_seconds", "refu", 600, minimum=1),
    )


def read_target(
    reader: Reader, data: Any, where: str, settings: Mapping[str, SettingCheck]
) -> RefuTargetConfig | None:
    """A Modbus target entry: ``name``, ``address`` and ``unit_id``, and the per-target
    ``settings`` keys (SunSpec targets have none); None when it cannot be used."""
    entry = reader.section(data, where, {"name", "address", "unit_id", *settings})
    name = reader.text(entry, "name", where)
    if name and not name.isprintable():
        reader.problem(f"{where}.name", "must not contain control characters")
    address = reader.text(entry, "address", where)
    unit_id = reader.whole_number(entry, "unit_id", where, 1, 0, 255)
    for key in sorted(set(entry) & set(settings)):
        if (reason := settings[key](entry[key])) is not None:
            reader.problem(f"{where}.{key}", reason)
    if not address:
        return None
    try:
        host, port = parse_address(address, DEFAULT_MODBUS_PORT)
    except ValueError as exc:
        reader.problem(f"{where}.address", str(exc))
        return None
    values = {k: v for k, v in entry.items() if k in settings}
    return RefuTargetConfig(name, host, port, unit_id, values)

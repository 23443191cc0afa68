"""What the sections of devices read over Modbus TCP share: scrape settings and targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.config import Reader, SettingCheck, parse_address

#: The Modbus TCP port of a target address that names none.
DEFAULT_MODBUS_PORT = 502


@dataclass(frozen=True)
class ModbusTargetConfig:
    name: str
    host: str
    port: int
    unit_id: int
    #: Values of the channels that are configured, not read (alias, capacity, min SoC ...).
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModbusConfig:
    timeout_seconds: float = 3.0
    targets: tuple[ModbusTargetConfig, ...] = ()
    #: /probe targets kept for their counters and what they learned, and how long one
    #: unused stays.
    probe_targets_max: int = 1024
    probe_idle_seconds: float = 600.0


def read_modbus_keys(
    reader: Reader, section: Mapping[str, Any], where: str, settings: Mapping[str, SettingCheck]
) -> tuple[float, tuple[ModbusTargetConfig, ...], int, float]:
    """The values of the keys of ``ModbusConfig``, in its order, from the section ``where``;
    ``settings`` are the keys a target may set, with their checks."""
    return (
        reader.number(section, "timeout_seconds", where, 3.0, minimum=0.1),
        tuple(
            reader.targets(
                section, where, lambda entry, at: _read_target(reader, entry, at, settings)
            )
        ),
        reader.whole_number(section, "probe_targets_max", where, 1024, 1, 10**6),
        reader.number(section, "probe_idle_seconds", where, 600, minimum=1),
    )


def _read_target(
    reader: Reader, data: Any, where: str, settings: Mapping[str, SettingCheck]
) -> ModbusTargetConfig | None:
    """A target entry: ``name``, ``address``, ``unit_id`` and the ``settings`` keys; None
    when it cannot be used."""
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
    return ModbusTargetConfig(name, host, port, unit_id, values)

"""The REFU mapping: its channels, checked for what only the REFU cares about."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from exporter.config import SettingCheck
from exporter.mapping import (
    Channel,
    DeviceMapping,
    MappingError,
    default_mapping_path,
    load_mapping,
)
from exporter.refu.registers import (
    BitCount,
    Configured,
    Constant,
    RefuAddress,
    Register,
    parse_address,
)

RefuChannel = Channel[RefuAddress]


@dataclass(frozen=True)
class RefuMapping:
    mapping: DeviceMapping[RefuAddress]

    @property
    def channels(self) -> tuple[RefuChannel, ...]:
        return self.mapping.channels

    @property
    def register_channels(self) -> tuple[Channel[Register], ...]:
        return tuple(c for c in self.channels if isinstance(c.address, Register))  # type: ignore[misc]

    @property
    def settings(self) -> dict[str, SettingCheck]:
        """The keys a target's configuration may set (alias, capacity, ...), with their checks."""
        checks: dict[str, SettingCheck] = {}
        for channel in self.channels:
            setting = channel.address
            while isinstance(setting, Configured):
                checks[setting.key] = setting_check(setting)
                setting = setting.default
        return checks

    def derived_values(
        self, read: Mapping[str, int], settings: Mapping[str, Any]
    ) -> dict[RefuChannel, Any]:
        """Values of the channels that are not registers, given the registers read (by source)."""
        values: dict[RefuChannel, Any] = {}
        for channel in self.channels:
            address = channel.address
            if isinstance(address, Constant):
                values[channel] = address.value
            elif isinstance(address, Configured):
                values[channel] = _configured(address, settings)
            elif isinstance(address, BitCount):
                words = [(read[source], mask) for source, mask in address.parts if source in read]
                if words:
                    values[channel] = sum((word & mask).bit_count() for word, mask in words)
        return values


def setting_check(setting: Configured) -> SettingCheck:
    """How a configured value is checked: text if its default is text, else a number.

    The key's unit suffix sets the range: ``_percent`` is 0..100, any other number > 0.
    """
    if isinstance(setting.default, str):
        return lambda value: None if isinstance(value, str) else f"must be text, got {value!r}"
    if setting.key.endswith("_percent"):
        return partial(_number, low=0, high=100, wanted="a number 0..100")
    return partial(_number, low=0, high=math.inf, wanted="a number > 0", exclusive=True)


def _number(
    value: Any, low: float, high: float, wanted: str, exclusive: bool = False
) -> str | None:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    in_range = numeric and math.isfinite(value) and low <= value <= high
    if in_range and not (exclusive and value == low):
        return None
    return f"must be {wanted}, got {value!r}"


def _configured(setting: Configured, settings: Mapping[str, Any]) -> Any:
    value = settings.get(setting.key, setting.default)
    if isinstance(value, Configured):
        value = _configured(value, settings)
    return value + setting.plus if setting.plus else value


def load_refu_mapping(path: Path | None = None) -> RefuMapping:
    path = path or default_mapping_path("refu")
    mapping = load_mapping(path, parse_address)
    _check_registers(mapping)
    return RefuMapping(mapping)


def _check_registers(mapping: DeviceMapping[RefuAddress]) -> None:
    owner: dict[tuple[int, int], str] = {}
    sources = {channel.source for channel in mapping.channels}
    for channel in mapping.channels:
        address = channel.address
        if isinstance(address, BitCount):
            unknown = [source for source, _ in address.parts if source not in sources]
            if unknown:
                raise MappingError(f"{mapping.path}: {channel.source}: counts unknown {unknown}")
        if not isinstance(address, Register):
            continue
        for register in range(address.address, address.end):
            other = owner.setdefault((address.function, register), channel.source)
            if other != channel.source:
                raise MappingError(
                    f"{mapping.path}: {channel.source}: register {register:#x} "
                    f"(function {address.function}) overlaps {other}"
                )

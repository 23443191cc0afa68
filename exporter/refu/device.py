"""The REFU mapping: its channels, checked for what only the REFU cares about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    def setting_keys(self) -> frozenset[str]:
        """The keys a target's configuration may set (alias, capacity, ...)."""
        keys = set()
        for channel in self.channels:
            setting = channel.address
            while isinstance(setting, Configured):
                keys.add(setting.key)
                setting = setting.default
        return frozenset(keys)

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

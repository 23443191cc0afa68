"""The PowerOcean systems to export: configured, or the Open API account's device list."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class Devices:
    """Serial -> name, safe to read while the Open API transport replaces the list: the
    mapping is never changed, only replaced whole, so a reader sees the old or the new one
    (read for every frame received, so without a lock)."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.replace(names)

    def names(self) -> dict[str, str]:
        return dict(self._names)

    def replace(self, names: Mapping[str, str]) -> None:
        self._names = dict(names)

    def __contains__(self, serial: object) -> bool:
        return serial in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

"""The PowerOcean systems to export: configured, or the Open API account's device list."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping


class Devices:
    """Serial -> name, safe to read while the Open API transport replaces the list."""

    def __init__(self, names: Mapping[str, str] = {}) -> None:
        self._names = dict(names)
        self._lock = threading.Lock()

    def names(self) -> dict[str, str]:
        with self._lock:
            return dict(self._names)

    def replace(self, names: Mapping[str, str]) -> None:
        with self._lock:
            self._names = dict(names)

    def __contains__(self, serial: object) -> bool:
        with self._lock:
            return serial in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        with self._lock:
            return len(self._names)

"""What both ingests (app protocol and Open API) share: writing reports of the configured
systems into the cache, within its bounds, and counting what was received and dropped."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Container, Iterable

from exporter.powerocean.cache import MessageCache
from exporter.powerocean.codec import Report

log = logging.getLogger(__name__)


class CacheWriter:
    """Stores reports of ``devices`` in ``cache``; ``stale_after`` tells which entries
    (packs, components ...) may be evicted to make room for a new one. Every reason in
    ``reasons`` is counted from the start, so its series exists before the first drop."""

    def __init__(
        self,
        cache: MessageCache,
        devices: Container[str],
        reasons: Iterable[str],
        *,
        stale_after: float,
        clock: Callable[[], float],
    ) -> None:
        self._cache = cache
        self._devices = devices
        self._stale_after = stale_after
        self._clock = clock
        self._dropped: Counter[str] = Counter(dict.fromkeys(reasons, 0))
        self._received: Counter[tuple[str, str]] = Counter()
        self._counts_lock = threading.Lock()

    def counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Dropped messages by reason, and received messages by (serial, message name)."""
        with self._counts_lock:
            return dict(self._dropped), dict(self._received)

    def _store(self, serial: str, message: str, report: Report, *, replace: bool = False) -> None:
        self._cache.update(serial, message, report, self._clock(), replace=replace)
        self._receive(serial, message)

    def _store_entries(
        self, serial: str, message: str, entries: Iterable[tuple[str, Report]], *, replace: bool
    ) -> bool:
        """Store each (entry name, report); False when an entry found no room."""
        now = self._clock()
        stored = [
            self._cache.update_entry(
                serial,
                message,
                name,
                report,
                now,
                forget_before=now - self._stale_after,
                replace=replace,
            )
            for name, report in entries
        ]
        return all(stored)

    def _receive(self, serial: str, message: str) -> None:
        with self._counts_lock:
            self._received[(serial, message)] += 1

    def _drop(self, reason: str, where: str) -> None:
        with self._counts_lock:
            self._dropped[reason] += 1
        log.debug("dropped a message on %s: %s", where[:128], reason)

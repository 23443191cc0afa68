"""What a device package read at scrape time gives the HTTP server: its devices for
``/metrics`` and its ``/probe`` module. The server knows no device beyond this.

Both are coroutines on the server's event loop: a module reads its devices there, never
blocking it, and many scrapes run at once on one thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from exporter.exposition import AnyFamily


class BadRequest(ValueError):
    """A request the client must change; the server answers 400 with the message."""


class Collector(Protocol):
    """What ``/metrics`` always serves: families made at the time of each scrape (the
    exporter's own, PowerOcean's, prometheus_client's process and Python collectors)."""

    def collect(self) -> Iterable[AnyFamily]: ...


class ScrapeModule(Protocol):
    """A device read when Prometheus scrapes, reachable as ``/probe?module=<name>``.

    ``timeout`` is what Prometheus allows for the scrape (its header less an offset), or
    None when it sent none; the module keeps within it and within its own configuration.
    """

    name: str

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        """The families of the configured devices, for ``/metrics``."""

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        """One device named by the query ``params``; raises BadRequest for bad ones."""

    def links(self) -> list[tuple[str, str]]:
        """(what it is, probe query string) of each configured device, for the landing page."""


class BuiltOnFirstProbe:
    """The ``/probe`` module ``build`` makes, made when it is first probed: a device package
    with no configured devices that nobody probes costs no memory (its mapping, its series
    shapes) and no start-up time. Only for a module without configured devices, whose
    ``scrape`` has nothing to read."""

    def __init__(self, name: str, build: Callable[[], ScrapeModule]) -> None:
        self.name = name
        self._build = build
        self._module: ScrapeModule | None = None

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        return []

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        if self._module is None:
            self._module = self._build()
        return await self._module.probe(params, timeout)

    def links(self) -> list[tuple[str, str]]:
        return []

"""A /probe module made on its first probe."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from exporter.exposition import AnyFamily
from exporter.modules import BuiltOnFirstProbe


class Recording:
    """A module that answers each probe with nothing and counts what it was asked."""

    name = "recording"

    def __init__(self) -> None:
        self.probes: list[Mapping[str, str]] = []

    async def scrape(self, timeout: float | None) -> list[AnyFamily]:
        raise AssertionError("a module without configured devices is never scraped")

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[AnyFamily]:
        self.probes.append(params)
        return []

    def links(self) -> list[tuple[str, str]]:
        raise AssertionError("a module without configured devices has no links")


def test_the_module_is_made_by_the_first_probe_and_kept():
    made: list[Recording] = []

    def build() -> Recording:
        made.append(Recording())
        return made[-1]

    module = BuiltOnFirstProbe("recording", build)
    assert asyncio.run(module.scrape(10.0)) == [] and module.links() == []
    assert made == []
    asyncio.run(module.probe({"target": "a"}, 10.0))
    asyncio.run(module.probe({"target": "b"}, None))
    assert len(made) == 1
    assert made[0].probes == [{"target": "a"}, {"target": "b"}]

"""Render: the exposition of a PowerOcean /metrics written by ``exposition.write`` against
prometheus_client's ``generate_latest`` of the same families, in both formats.

The families are a collector's of ``--systems`` systems x 4 packs (7 make about 4,000
series), fed in this process with the simulator's payloads (no network: this measures the
writers alone). Before each timed write (not timed) every system sends the updates of one
15 s scrape interval (its clock moving on) and the collector makes the scrape's families,
so each write finds new values, as a scrape every 15 s would. The writers alternate within
a round; figures are min/median/max over the rounds of each round's median.

    .venv/bin/python bench/render.py [--rounds 5] [--writes 20] [--systems 7]
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Iterable

from common import TICKS_PER_SCRAPE, Payload, Systems, alternate, ratios, spreads, timed
from prometheus_client import exposition as text_exposition
from prometheus_client.core import Metric
from prometheus_client.openmetrics import exposition as openmetrics_exposition
from prometheus_client.registry import Collector

from exporter.exposition import AnyFamily, Family, Format, InfoFamily, negotiate, write
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest

PACKS = 4
ACCEPTS = {
    "text": "text/plain;version=0.0.4",
    "openmetrics": "application/openmetrics-text;version=1.0.0",
}
GENERATE_LATEST: dict[str, Callable[[Collector], bytes]] = {
    "text": text_exposition.generate_latest,
    "openmetrics": openmetrics_exposition.generate_latest,
}


class Fleet:
    """Simulated systems feeding one collector, in this process."""

    def __init__(self, count: int) -> None:
        mapping = load_powerocean_mapping()
        cache = MessageCache()
        self._systems = Systems(count, PACKS, prefix="R371R")
        devices = Devices({serial: serial for serial in self._systems.serials})
        self._ingest = Ingest(mapping, cache, devices, stale_after=3600)
        self.collector = PowerOceanCollector(
            mapping, cache, self._ingest, None, devices=devices, stale_after=3600
        )
        self._take(self._systems.get_all())

    def next_scrape(self) -> list[AnyFamily]:
        """The families of a scrape after every system sent one interval's updates."""
        self._take(self._systems.updates(TICKS_PER_SCRAPE))
        return list(self.collector.collect())

    def _take(self, payloads: Iterable[Payload]) -> None:
        for payload in payloads:
            self._ingest(payload.topic, payload.data)


class _Families(Collector):
    def __init__(self, families: Iterable[AnyFamily]) -> None:
        self._families = [
            f.to_metric() if isinstance(f, Family | InfoFamily) else f for f in families
        ]

    def collect(self) -> Iterable[Metric]:
        return self._families


def _generate_latest(generate: Callable[[Collector], bytes], families: list[AnyFamily]) -> bytes:
    """``families`` written by prometheus_client's ``generate_latest``."""
    return generate(_Families(families))


def _write(negotiated: Format, families: list[AnyFamily]) -> bytes:
    """``families`` written by the exporter's writer."""
    return write(families, negotiated)


def timed_write(fleet: Fleet, writer: Callable[[list[AnyFamily]], object]) -> Callable[[], float]:
    """Seconds for one ``write`` of a new scrape's families (made before, not timed)."""

    def measure() -> float:
        families = fleet.next_scrape()
        return timed(lambda: writer(families))

    return measure


def variants(fleet: Fleet) -> dict[str, Callable[[], float]]:
    """Each writer in each format."""
    found: dict[str, Callable[[], float]] = {}
    for name, accept in ACCEPTS.items():
        negotiated = negotiate(accept)
        found[f"{name} generate_latest"] = timed_write(
            fleet, functools.partial(_generate_latest, GENERATE_LATEST[name])
        )
        found[f"{name} write"] = timed_write(fleet, functools.partial(_write, negotiated))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=20, help="per writer, format and round")
    parser.add_argument("--systems", type=int, default=7)
    args = parser.parse_args()
    fleet = Fleet(args.systems)
    first = fleet.next_scrape()
    count = sum(len(family.samples) for family in _Families(first).collect())
    measured = variants(fleet)
    rounds = [alternate(measured, args.writes) for _ in range(args.rounds)]
    figures = spreads(rounds)
    print(
        f"{args.systems} systems x 4 packs, {count} series; ms, min/median/max over "
        f"{len(rounds)} round medians"
    )
    for name in ACCEPTS:
        ours, theirs = figures[f"{name} write"], figures[f"{name} generate_latest"]
        speedup = ratios(rounds, f"{name} generate_latest", f"{name} write")
        print(
            f"  {name:<12} write {ours.show(1000)}  generate_latest {theirs.show(1000)}"
            f"  {speedup.show(1, 1)}x faster"
        )


if __name__ == "__main__":
    main()

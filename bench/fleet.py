"""A fleet: N REFU targets scraped at once through /probe of one exporter process, without
and with idle connections held open to the exporter, and the exporter's memory.

REFU simulator processes answer after --delay-ms; each target is one of their unit ids.
A burst is N concurrent /probe requests with Prometheus' headers (scrape timeout 10 s);
it reports the wall time, how many scrapes said refu_up 1 and how many took longer than
the timeout (or failed). A first burst connects the exporter to every target; then each
round alternates a burst alone and a burst while --idle connections sit open (for a
second before it), each after one single probe. The exporter's CPU time over a burst is
divided by its probes; its resident memory (VmRSS) is read after every burst.
Min/median/max over the rounds.

    .venv/bin/python bench/fleet.py [--targets 2000] [--idle 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import time
from collections.abc import Iterator, Sequence

from common import (
    HOST,
    SCRAPE_TIMEOUT,
    Burst,
    Processes,
    Server,
    burst,
    cpu_seconds,
    probe_paths,
    raise_file_limit,
    rss_mib,
    simulators_for,
    spreads,
    start_exporter,
    start_refu_simulators,
)

#: How long the idle connections sit open before the probes: the single probe measures
#: what idle connections cost, not the exporter taking 1000 new ones in.
IDLE_SETTLE_SECONDS = 1.0

#: What each condition of a round measures.
BURST_FIGURES = ("single wall", "burst wall", "burst up", "burst late", "cpu", "rss")


@contextlib.contextmanager
def idle_connections(port: int, count: int) -> Iterator[int]:
    """``count`` connections that send nothing, open for the block; yields how many opened."""
    sockets = []
    try:
        for _ in range(count):
            with contextlib.suppress(OSError):
                sockets.append(socket.create_connection((HOST, port), timeout=5))
        yield len(sockets)
    finally:
        for sock in sockets:
            sock.close()


def bursts(exporter: Server, paths: list[str], condition: str) -> dict[str, float]:
    """A single probe, then the burst of every path: the exporter's CPU time per probe in
    the burst, and its memory after it."""
    result = burst(exporter.port, paths[:1]).figures(f"{condition} single")
    cpu = cpu_seconds(exporter.pid)
    result |= burst(exporter.port, paths).figures(f"{condition} burst")
    result[f"{condition} cpu"] = (cpu_seconds(exporter.pid) - cpu) / len(paths)
    result[f"{condition} rss"] = rss_mib(exporter.pid)
    return result


def one_round(exporter: Server, paths: list[str], idle: int) -> dict[str, float]:
    """The bursts alone, and with idle connections held open."""
    result = bursts(exporter, paths, "alone")
    with idle_connections(exporter.port, idle) as opened:
        result["idle opened"] = opened
        time.sleep(IDLE_SETTLE_SECONDS)  # they sit open: the exporter has taken them in
        result |= bursts(exporter, paths, "idle")
    return result


def report(
    first: Burst, first_rss: float, rounds: Sequence[dict[str, float]], targets: int, idle: int
) -> None:
    figures = spreads(rounds)
    print(f"{targets} targets at once; min/median/max over {len(rounds)} rounds")
    print(
        f"  first burst (connects every target): wall {first.wall:.2f} s, "
        f"refu_up 1: {first.up}, over {SCRAPE_TIMEOUT:g} s: {first.late}, "
        f"exporter RSS {first_rss:.1f} MiB"
    )
    for condition, label in (("alone", "no idle connections"), ("idle", f"{idle} idle open")):
        figure = {name: figures[f"{condition} {name}"] for name in BURST_FIGURES}
        print(f"  {label}")
        print(f"    single probe   {figure['single wall'].show(1000, 0)} ms")
        print(
            f"    burst          wall {figure['burst wall'].show()} s"
            f"  refu_up 1: {figure['burst up'].show(digits=0)}"
            f"  over {SCRAPE_TIMEOUT:g} s: {figure['burst late'].show(digits=0)}"
        )
        print(
            f"    exporter       CPU {figure['cpu'].show(1000)} ms/probe in the burst"
            f"  RSS {figure['rss'].show(digits=1)} MiB after it"
        )
    print(f"  idle connections opened: {figures['idle opened'].show(digits=0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=1000, help="idle connections held open")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="device latency")
    args = parser.parse_args()
    raise_file_limit()
    with Processes() as processes:
        simulators = start_refu_simulators(
            processes, simulators_for(args.targets), args.delay_ms / 1000
        )
        exporter = start_exporter(processes, "exporter")
        paths = probe_paths(simulators, args.targets)
        first = burst(exporter.port, paths)
        first_rss = rss_mib(exporter.pid)
        rounds = [one_round(exporter, paths, args.idle) for _ in range(args.rounds)]
    report(first, first_rss, rounds, args.targets, args.idle)


if __name__ == "__main__":
    main()

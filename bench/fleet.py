"""A fleet: N REFU targets scraped at once through /probe of one exporter process, without
and with idle connections held open to the exporter.

A few REFU simulator processes answer after --delay-ms; each target is one of their
unit ids. A burst is N concurrent /probe requests with Prometheus' headers (scrape
timeout 10 s); it reports the wall time, how many scrapes said refu_up 1 and how many
took longer than the timeout (or failed). A first burst connects the exporter to every
target; then each round alternates a burst alone and a burst while --idle connections
sit open (for a second before it), each after one single probe. Min/median/max over the
rounds.

    .venv/bin/python bench/fleet.py [--targets 1000] [--idle 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import math
import resource
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from common import (
    HOST,
    PROMETHEUS_HEADERS,
    Processes,
    Server,
    sample_values,
    spreads,
    start_exporter,
    start_refu_simulator,
)

#: What X-Prometheus-Scrape-Timeout-Seconds says: a scrape that takes longer is lost.
SCRAPE_TIMEOUT = float(PROMETHEUS_HEADERS["X-Prometheus-Scrape-Timeout-Seconds"])
#: The client gives up on a scrape after this long, so a burst always ends.
GIVE_UP_SECONDS = 30.0
UNITS_PER_SIMULATOR = 200
#: How long the idle connections sit open before the probes: the single probe measures
#: what idle connections cost, not the exporter taking 1000 new ones in.
IDLE_SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class Scrape:
    seconds: float
    up: bool


@dataclass(frozen=True)
class Burst:
    wall: float
    scrapes: tuple[Scrape, ...]

    def figures(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix} wall": self.wall,
            f"{prefix} up": sum(s.up for s in self.scrapes),
            f"{prefix} late": sum(s.seconds > SCRAPE_TIMEOUT for s in self.scrapes),
        }


def request(path: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in PROMETHEUS_HEADERS.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def refu_up(answer: bytes) -> bool:
    """Whether an HTTP answer is a 200 whose exposition says refu_up 1."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        return False
    if b"content-encoding: gzip" in head.lower():
        body = gzip.decompress(body)
    return sample_values(body, "refu_up") == [1.0]


async def probe(port: int, path: str, limit: asyncio.Semaphore) -> Scrape:
    """One /probe on its own connection; a failure or a give-up counts as down."""
    async with limit:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(GIVE_UP_SECONDS):
                reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request(path))
                answer = await reader.read()
                writer.close()
            up = refu_up(answer)
        except (OSError, TimeoutError, EOFError):
            up = False
        return Scrape(time.perf_counter() - started, up)


async def burst(port: int, paths: Sequence[str], concurrency: int) -> Burst:
    """Every path at once (at most ``concurrency`` in flight)."""
    limit = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    scrapes = await asyncio.gather(*(probe(port, path, limit) for path in paths))
    return Burst(time.perf_counter() - started, tuple(scrapes))


def probe_paths(simulators: Sequence[Server], targets: int) -> list[str]:
    """/probe paths of ``targets`` distinct (simulator, unit id) targets."""
    return [
        f"/probe?module=refu&target={HOST}:{simulators[i // UNITS_PER_SIMULATOR].port}"
        f"&unit_id={i % UNITS_PER_SIMULATOR + 1}"
        for i in range(targets)
    ]


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


def one_round(exporter: Server, paths: list[str], idle: int, concurrency: int) -> dict[str, float]:
    """A single probe and a burst, alone and with idle connections held open."""
    single = [paths[0]]
    result = asyncio.run(burst(exporter.port, single, 1)).figures("alone single")
    result |= asyncio.run(burst(exporter.port, paths, concurrency)).figures("alone burst")
    with idle_connections(exporter.port, idle) as opened:
        result["idle opened"] = opened
        time.sleep(IDLE_SETTLE_SECONDS)  # they sit open: the exporter has taken them in
        result |= asyncio.run(burst(exporter.port, single, 1)).figures("idle single")
        result |= asyncio.run(burst(exporter.port, paths, concurrency)).figures("idle burst")
    return result


def raise_file_limit() -> None:
    """As many open files as allowed: the burst, the idle connections and the exporter's."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def report(first: Burst, rounds: Sequence[dict[str, float]], targets: int, idle: int) -> None:
    figures = spreads(rounds)
    first_figures = first.figures("first")
    print(f"{targets} targets; min/median/max over {len(rounds)} rounds")
    print(
        f"  first burst (connects every target): wall {first.wall:.2f} s, "
        f"refu_up 1: {first_figures['first up']:.0f}, over {SCRAPE_TIMEOUT:g} s: "
        f"{first_figures['first late']:.0f}"
    )
    for condition, label in (("alone", "no idle connections"), ("idle", f"{idle} idle open")):
        print(
            f"  {label:<20} single probe {figures[f'{condition} single wall'].show(1000, 0)} ms"
            f"  burst wall {figures[f'{condition} burst wall'].show()} s"
            f"  refu_up 1: {figures[f'{condition} burst up'].show(digits=0)}"
            f"  over {SCRAPE_TIMEOUT:g} s: {figures[f'{condition} burst late'].show(digits=0)}"
        )
    print(f"  idle connections opened: {figures['idle opened'].show(digits=0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=1000, help="idle connections held open")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="device latency")
    parser.add_argument("--concurrency", type=int, help="scrapes in flight (default: all)")
    args = parser.parse_args()
    raise_file_limit()
    concurrency = args.concurrency or args.targets
    with Processes() as processes:
        simulators = [
            start_refu_simulator(processes, args.delay_ms / 1000)
            for _ in range(math.ceil(args.targets / UNITS_PER_SIMULATOR))
        ]
        exporter = start_exporter(processes, "exporter")
        paths = probe_paths(simulators, args.targets)
        first = asyncio.run(burst(exporter.port, paths, concurrency))
        rounds = [one_round(exporter, paths, args.idle, concurrency) for _ in range(args.rounds)]
    report(first, rounds, args.targets, args.idle)


if __name__ == "__main__":
    main()

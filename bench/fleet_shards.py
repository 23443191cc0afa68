"""A fleet across replicas and shards: N REFU targets read by real Prometheus through
/probe at a 15 s interval, by one exporter replica and one Prometheus, then by two replicas
and two Prometheus shards.

Each Prometheus (the Debian package) runs docs/sharding/prometheus-shard.yml as its shard;
each replica is ``ess-exporter run`` with the Kubernetes base's config.yml. Prometheus
reaches the replicas through a Service-like front (tests/support/front.py: a TCP proxy
process with session affinity; one for each Prometheus, the single replica's too, so both
setups pay for it). The REFUs are simulator processes, each serving many ports
(tests/support/refu_fleet.py) and answering after --delay-ms.

After every target has been scraped once, the setup is watched for --intervals scrape
intervals. From Prometheus: scrapes per second, the p50/p99 of scrape_duration_seconds and
how many scrapes said refu_up 1; from the exporters: CPU time over the window per scrape.

    .venv/bin/python bench/fleet_shards.py [--targets 2000] [--intervals 4]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import Processes, Server, cpu_seconds, raise_file_limit, start_exporter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' fleet of simulators, front and Prometheus

from tests.support.prometheus import PrometheusServer  # noqa: E402
from tests.support.sharding import EXPORTER_CONFIG, shard_config  # noqa: E402

#: Ports one simulator process serves.
PORTS_PER_PROCESS = 200
PROBE_JOB = 'job="refu-probe"'


@dataclass(frozen=True)
class Figures:
    scrapes_per_second: float
    p50: float
    p99: float
    up_ratio: float
    cpu_per_scrape: float
    #: Each replica's part of the exporters' CPU time.
    cpu_share: tuple[float, ...]


def start_fleet(processes: Processes, targets: int, delay: float) -> list[str]:
    """Simulator processes for ``targets`` REFUs; their addresses once all listen. One
    after the other: each takes free ports, which must not be free for the next one."""
    addresses: list[str] = []
    for i in range(math.ceil(targets / PORTS_PER_PROCESS)):
        count = min(PORTS_PER_PROCESS, targets - len(addresses))
        command = ("-m", "tests.support.refu_fleet", str(count), "--delay", str(delay))
        child = processes.start(f"refus-{i}", sys.executable, *command, piped=True)
        assert child.stdout is not None
        addresses += [f"127.0.0.1:{port.decode()}" for port in child.stdout.readline().split()]
    if len(set(addresses)) != targets:
        raise RuntimeError(f"{len(set(addresses))} of {targets} simulated REFUs started")
    return addresses


def start_front(processes: Processes, name: str, replicas: list[int], first: int) -> Server:
    """A front process for ``replicas`` (their ports), starting at the ``first``."""
    command = ("-m", "tests.support.front", *map(str, replicas), "--first", str(first))
    child = processes.start(name, sys.executable, *command, piped=True)
    assert child.stdout is not None
    return Server(child, int(child.stdout.readline()))


@contextlib.contextmanager
def setup(
    processes: Processes, directory: Path, targets_file: Path, replicas: int, interval: float
) -> Iterator[tuple[list[int], list[PrometheusServer]]]:
    """``replicas`` exporters and as many Prometheus shards, each shard behind its front;
    the exporters and fronts are stopped at the end."""
    exporters = [
        start_exporter(processes, f"exporter-{replicas}-{i}", EXPORTER_CONFIG.read_text())
        for i in range(replicas)
    ]
    ports = [exporter.port for exporter in exporters]
    fronts = [
        start_front(processes, f"front-{replicas}-{shard}", ports, shard)
        for shard in range(replicas)
    ]
    with contextlib.ExitStack() as stack:
        for server in (*exporters, *fronts):
            stack.callback(server.process.terminate)
        shards: list[PrometheusServer] = []
        for shard, front in enumerate(fronts):
            config = shard_config(
                shard,
                replicas,
                targets_file=targets_file,
                exporter=f"127.0.0.1:{front.port}",
                replicas=[f"127.0.0.1:{port}" for port in ports],
                interval=interval,
                timeout=interval * 2 / 3,
            )
            prometheus = PrometheusServer(config, directory / f"shard-{shard}")
            shards.append(stack.enter_context(prometheus))
        yield [exporter.pid for exporter in exporters], shards


def scraped_targets(shards: list[PrometheusServer]) -> int:
    return sum(len(shard.series(f"up{{{PROBE_JOB}}}")) for shard in shards)


def samples(shards: list[PrometheusServer], metric: str, since: float, until: float) -> list[float]:
    """Every sample of ``metric`` of the probe job in (since, until], over all shards."""
    seconds = math.ceil(time.time() - since) + 1
    return [
        float(value)
        for shard in shards
        for series in shard.series(f"{metric}{{{PROBE_JOB}}}[{seconds}s]")
        for at, value in series["values"]
        if since < at <= until
    ]


def measure(
    processes: Processes,
    directory: Path,
    targets_file: Path,
    replicas: int,
    args: argparse.Namespace,
) -> Figures:
    with setup(processes, directory, targets_file, replicas, args.interval) as (pids, shards):
        deadline = time.monotonic() + 3 * args.interval + 60
        while scraped_targets(shards) < args.targets:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{scraped_targets(shards)} of {args.targets} targets scraped")
            time.sleep(1)
        start, cpu = time.time(), [cpu_seconds(pid) for pid in pids]
        time.sleep(args.intervals * args.interval)
        end, cpu = time.time(), [cpu_seconds(pid) - c for pid, c in zip(pids, cpu, strict=True)]
        time.sleep(args.interval / 3)  # the scrapes under way at the end are in
        durations = samples(shards, "scrape_duration_seconds", start, end)
        ups = samples(shards, "refu_up", start, end)
    quantiles = statistics.quantiles(durations, n=100)
    return Figures(
        scrapes_per_second=len(durations) / (end - start),
        p50=statistics.median(durations),
        p99=quantiles[98],
        up_ratio=sum(ups) / len(durations),
        cpu_per_scrape=sum(cpu) / len(durations),
        cpu_share=tuple(c / sum(cpu) for c in cpu),
    )


def report(results: dict[int, Figures], args: argparse.Namespace) -> None:
    print(
        f"{args.targets} REFU targets ({args.delay_ms:g} ms device latency), scraped every "
        f"{args.interval:g} s through /probe, watched for {args.intervals} intervals"
    )
    print("                        scrapes/s  duration p50/p99 ms  refu_up 1  exporter CPU/probe")
    for replicas, f in results.items():
        name = "1 replica, 1 shard" if replicas == 1 else f"{replicas} replicas, {replicas} shards"
        share = "/".join(f"{s:.0%}" for s in f.cpu_share)
        durations = f"{f.p50 * 1000:.1f}/{f.p99 * 1000:.1f}"
        print(
            f"  {name:<21} {f.scrapes_per_second:9.1f}  {durations:>19}  {f.up_ratio:9.1%}"
            f"  {f.cpu_per_scrape * 1000:6.2f} ms (split {share})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--intervals", type=int, default=4, help="scrape intervals watched")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="device latency")
    args = parser.parse_args()
    os.chdir(ROOT)  # the simulators and fronts run as python -m tests.support....
    raise_file_limit()
    with Processes() as processes:
        directory = Path(tempfile.mkdtemp(prefix="ess-shards-", dir=processes.directory))
        targets_file = directory / "refu.yml"
        addresses = start_fleet(processes, args.targets, args.delay_ms / 1000)
        targets_file.write_text(yaml.safe_dump([{"targets": addresses}]))
        results = {
            replicas: measure(processes, directory / str(replicas), targets_file, replicas, args)
            for replicas in (1, 2)
        }
    report(results, args)


if __name__ == "__main__":
    main()

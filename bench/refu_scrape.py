"""REFU scrape figures against the simulator with an injected round-trip delay.

Prints: Modbus requests per scrape, scrape wall time through the exporter (HTTP /probe,
and the collector alone) against the same two reads done with bare pymodbus calls,
exposition render time for one target, and peak memory.

    .venv/bin/python bench/refu_scrape.py [--delay-ms 10] [--scrapes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
import tracemalloc
import urllib.request

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from pymodbus.client import AsyncModbusTcpClient

from exporter.app import Config, Exporter
from exporter.eventloop import EventLoopThread
from exporter.metrics import FamilyBuilder
from exporter.refu.channels import load_refu_mapping
from exporter.refu.collector import RefuCollector, TargetPool
from exporter.refu.target import Address
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator


def timed(function, repeat: int) -> list[float]:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return durations


async def bare_pymodbus(port: int, repeat: int) -> list[float]:
    """The seed map's two reads with a connected pymodbus client, nothing else."""
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    await client.connect()
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        await client.read_input_registers(0x100, count=0x56, device_id=1)
        await client.read_holding_registers(0x200, count=11, device_id=1)
        durations.append(time.perf_counter() - started)
    client.close()
    return durations


def ms(values: list[float]) -> str:
    median = statistics.median(values) * 1000
    p90 = sorted(values)[int(len(values) * 0.9)] * 1000
    return f"median {median:7.2f} ms  p90 {p90:7.2f} ms"


class _Fixed:
    """A registry stand-in holding one prepared family."""

    def __init__(self, family: Metric) -> None:
        self._family = family

    def collect(self) -> list[Metric]:
        return [self._family]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=10.0, help="per request, at the device")
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()

    simulator = RefuSimulator("127.0.0.1", free_port(), delay_seconds=args.delay_ms / 1000)
    simulator.start()
    exporter = Exporter(Config(), host="127.0.0.1", port=0)
    exporter.start()
    url = f"http://127.0.0.1:{exporter.port}/probe?module=refu&target=127.0.0.1:{simulator.port}"
    try:
        urllib.request.urlopen(url).read()  # connect and plan once
        simulator.requests.clear()
        http = timed(lambda: urllib.request.urlopen(url).read(), args.scrapes)
        per_scrape = len(simulator.requests) / args.scrapes
        # Memory is traced in its own round: tracing slows every allocation down.
        tracemalloc.start()
        timed(lambda: urllib.request.urlopen(url).read(), 10)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        loop = EventLoopThread()
        pool = TargetPool(load_refu_mapping(), loop, max_gap=10)
        target = pool.get(Address("127.0.0.1", simulator.port, 1))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(RefuCollector([("bench", target)], loop, timeout=5))
        generate_latest(registry)
        collector_only = timed(lambda: generate_latest(registry), args.scrapes)
        bare = asyncio.run(bare_pymodbus(simulator.port, args.scrapes))

        # Rendering alone: the families of one scrape's values, no device I/O.
        result = loop.run(target.scrape(5))

        def render() -> bytes:
            families = FamilyBuilder(("target",))
            for channel, raw in result.values.items():
                families.add(channel, raw, ("bench",))
            return b"".join(generate_latest(_Fixed(family)) for family in families.families())

        render_times = timed(render, 200)
        size = len(render())
        loop.stop()
    finally:
        exporter.stop()
        simulator.stop()

    base = statistics.median(bare)
    print(
        f"injected device delay          {args.delay_ms:.1f} ms per request, {args.scrapes} scrapes"
    )
    print(f"modbus requests per scrape     {per_scrape:.2f}")
    print(f"bare pymodbus (2 reads)        {ms(bare)}")
    for label, values in (
        ("exporter collector, no HTTP", collector_only),
        ("exporter /probe over HTTP", http),
    ):
        print(f"{label:<30} {ms(values)}  ({statistics.median(values) / base:.2f}x bare)")
    print(f"render one target              {ms(render_times)}  ({size} bytes)")
    print(f"peak traced memory, scrapes    {peak / 1024:.0f} KiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS                {rss:.1f} MiB")


if __name__ == "__main__":
    main()

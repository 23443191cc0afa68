"""PowerOcean figures: ingest throughput, /metrics render time for many systems, memory.

Ingest is the whole path of one MQTT payload on the client's thread: envelope, XOR
check, routing, protobuf parse, cache store. Rendering is what a scrape costs for
--systems systems with --packs packs each.

    .venv/bin/python bench/powerocean_ingest.py [--seconds 3] [--systems 10] [--packs 4]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import time
import tracemalloc

from prometheus_client import CollectorRegistry, generate_latest

from exporter.powerocean.cache import MessageCache
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.schema import load_powerocean_mapping
from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher

TOPIC = "/app/device/property/{}"


MESSAGES = (
    "JTS1_ENERGY_STREAM_REPORT",
    "JTS1_EMS_HEARTBEAT",
    "JTS1_EMS_STATE_CHANGE_REPORT",
    "JTS1_BP_STA_REPORT",
)


def payloads(serial: str, packs: int) -> list[bytes]:
    """One payload per message kind, as the device sends them mid-session."""
    model = PowerOceanModel(packs=[f"{serial}-PACK{i}" for i in range(1, packs + 1)], epoch=0)
    publisher = PowerOceanPublisher("mqtt://127.0.0.1:1", serial, model=model)
    messages = model.messages(1000.0)
    return [publisher.payload({name: messages[name]}) for name in MESSAGES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--systems", type=int, default=10)
    parser.add_argument("--packs", type=int, default=4)
    args = parser.parse_args()
    mapping = load_powerocean_mapping()

    # Ingest: a realistic mix (energy stream most often), one system with two packs.
    stream, heartbeat, change, packs = payloads("R371BENCH0001", 2)
    mix = [stream, stream, stream, heartbeat, packs, change]
    cache = MessageCache()
    ingest = Ingest(mapping, cache, ["R371BENCH0001"], stale_after=1e9)
    topic = TOPIC.format("R371BENCH0001")
    count, deadline = 0, time.perf_counter() + args.seconds
    started = time.perf_counter()
    for payload in itertools.cycle(mix):
        ingest(topic, payload)
        count += 1
        if count % 1000 == 0 and time.perf_counter() > deadline:
            break
    rate = count / (time.perf_counter() - started)

    # Render: many systems, every message fresh.
    cache = MessageCache()
    serials = [f"R371BENCH{i:04d}" for i in range(args.systems)]
    ingest = Ingest(mapping, cache, serials, stale_after=1e9)
    tracemalloc.start()
    for serial in serials:
        for payload in payloads(serial, args.packs):
            ingest(TOPIC.format(serial), payload)
    collector = PowerOceanCollector(
        mapping, cache, ingest, None, devices=Devices({s: s for s in serials}), stale_after=1e9
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    text = generate_latest(registry)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    durations = []
    for _ in range(30):
        t = time.perf_counter()
        generate_latest(registry)
        durations.append(time.perf_counter() - t)
    series = sum(1 for line in text.splitlines() if not line.startswith(b"#"))

    print(f"ingest (1 core, decode + cache)   {rate:,.0f} messages/s")
    render_ms = statistics.median(durations) * 1000
    print(
        f"render {args.systems} systems x {args.packs} packs   "
        f"median {render_ms:.1f} ms, {series} series, {len(text) / 1024:.0f} KiB"
    )
    print(f"peak traced memory (cache+render) {peak / 1024 / 1024:.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS                   {rss:.1f} MiB")


if __name__ == "__main__":
    main()

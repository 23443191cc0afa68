"""The exporter's memory: whether it follows the devices, not the traffic.

Churn: one exporter (``ess-exporter run`` with ``refu: probe_idle_seconds`` 5) and REFU
simulator processes answering after --delay-ms, each unit id of theirs a target. Each
round probes --targets targets never probed before, all at once with Prometheus'
headers, then stays quiet for longer than the pool keeps an unused target and sends one
probe (of the first target ever probed), on which the pool forgets the idle ones. The
exporter's resident memory (VmRSS) is read after the burst and after that probe.

Steady: ``ess-exporter run`` with one configured REFU target (a simulator process) and
--systems PowerOcean systems x 4 packs fed through a Mosquitto process, scraped
--scrapes times on /metrics with Prometheus' headers; before each scrape (not waited
for beyond Mosquitto's acks) every system sends the mid-session updates of one 15 s
scrape interval, its clock moving on, so every scrape finds new values. VmRSS is read
after the get-alls and along the way.

    .venv/bin/python bench/memory.py [--rounds 5] [--targets 1000] [--scrapes 1000]
"""

from __future__ import annotations

import argparse
import time

import paho.mqtt.client as mqtt
from common import (
    HOST,
    TICKS_PER_SCRAPE,
    Processes,
    Scraper,
    Server,
    Systems,
    burst,
    connected_publisher,
    powerocean_config,
    probe_paths,
    publish,
    raise_file_limit,
    rss_mib,
    sample_values,
    series,
    simulators_for,
    start_exporter,
    start_mosquitto,
    start_refu_simulators,
    wait_for_frames,
    wait_for_subscription,
)

#: How long the pool keeps an unused /probe target, and the quiet after each round.
PROBE_IDLE_SECONDS = 5
QUIET_SECONDS = PROBE_IDLE_SECONDS + 1.0
PACKS = 4


def churn(args: argparse.Namespace) -> None:
    """Rounds of new /probe targets, each followed by a quiet spell; RSS after each."""
    with Processes() as processes:
        simulators = start_refu_simulators(
            processes, simulators_for(args.rounds * args.targets), args.delay_ms / 1000
        )
        config = f"refu:\n  probe_idle_seconds: {PROBE_IDLE_SECONDS}\n"
        exporter = start_exporter(processes, "exporter-churn", config)
        print(
            f"/probe of {args.targets} new targets per round ({args.delay_ms:g} ms device "
            f"latency), then {QUIET_SECONDS:g} s quiet (probe_idle_seconds "
            f"{PROBE_IDLE_SECONDS}) and one probe; exporter VmRSS, MiB"
        )
        print(f"  {'round':>5}  {'refu_up 1':>9}  {'after the burst':>15}  {'after the quiet':>15}")
        print(f"  {'start':>5}  {'':>9}  {'':>15}  {rss_mib(exporter.pid):>15.1f}")
        keeper = probe_paths(simulators, 1)[0]  # the first target of round 1
        quiet = []
        for number in range(args.rounds):
            paths = probe_paths(simulators, args.targets, first=number * args.targets)
            up = burst(exporter.port, paths).up
            after_burst = rss_mib(exporter.pid)
            time.sleep(QUIET_SECONDS)
            if burst(exporter.port, [keeper]).up != 1:
                raise RuntimeError("the probe after the quiet spell failed")
            quiet.append(rss_mib(exporter.pid))
            print(f"  {number + 1:>5}  {up:>9}  {after_burst:>15.1f}  {quiet[-1]:>15.1f}")
        if len(quiet) >= 2:
            growth = quiet[-1] - quiet[1]
            print(f"  after the quiet, round {len(quiet)} - round 2: {growth:+.1f} MiB")


def steady(args: argparse.Namespace) -> None:
    """``run`` with one REFU target and PowerOcean systems, scraped many times; RSS along."""
    systems = Systems(args.systems, PACKS)
    with Processes() as processes:
        (simulator,) = start_refu_simulators(processes, 1, 0.0)
        broker = start_mosquitto(processes)
        publisher = connected_publisher(broker)
        try:
            refu = (
                "refu:\n  targets:\n"
                f"    - {{name: refu-1, address: '{HOST}:{simulator.port}', unit_id: 1}}\n"
            )
            exporter = start_exporter(
                processes, "exporter-steady", powerocean_config(broker, systems.serials, refu)
            )
            wait_for_subscription(exporter)
            wait_for_frames(exporter, publish(publisher, systems.get_all()))
            scrape_many(exporter, systems, publisher, args.scrapes)
        finally:
            publisher.disconnect()
            publisher.loop_stop()


def scrape_many(exporter: Server, systems: Systems, publisher: mqtt.Client, scrapes: int) -> None:
    """``scrapes`` scrapes of /metrics, each after new values; RSS at a few of them."""
    checkpoints = {n for n in (1, 10, 100, scrapes // 2, scrapes) if 0 < n <= scrapes}
    print(
        f"ess-exporter run with 1 REFU target and {len(systems.serials)} systems x {PACKS} "
        f"packs, /metrics after new values each time; exporter VmRSS, MiB"
    )
    print(f"  {'after the get-alls':>22}  {rss_mib(exporter.pid):6.1f}")
    scraper = Scraper(exporter.port)
    for number in range(1, scrapes + 1):
        publish(publisher, systems.updates(TICKS_PER_SCRAPE))
        answer = scraper.get("/metrics")
        if answer.status != 200:
            raise RuntimeError(f"/metrics answered {answer.status}")
        if number in checkpoints:
            body = answer.body
            if sample_values(body, "refu_up") != [1.0]:
                raise RuntimeError("the REFU target is not up")
            print(
                f"  {f'after {number} scrapes':>22}  {rss_mib(exporter.pid):6.1f}"
                f"  ({series(body)} series)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="of new /probe targets")
    parser.add_argument("--targets", type=int, default=1000, help="new /probe targets per round")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="device latency")
    parser.add_argument("--systems", type=int, default=10, help="PowerOcean systems of 4 packs")
    parser.add_argument("--scrapes", type=int, default=1000, help="of /metrics")
    args = parser.parse_args()
    raise_file_limit()
    churn(args)
    steady(args)


if __name__ == "__main__":
    main()

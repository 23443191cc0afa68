"""REFU: /probe over HTTP against bare pymodbus doing the same two reads, at several device
latencies, and the exporter's CPU time per probe.

One REFU simulator process per latency and one exporter process (no config: /probe only).
Each round alternates a bare read (pymodbus' client in this process: function 3 from 0x200,
11 registers, then function 4 from 0x100, 0x56 registers, the exporter's read plan) with a
/probe request carrying Prometheus' headers, on one kept-alive connection as Prometheus
keeps one. The exporter's CPU time (user and system, to the nanosecond) over a round's
probes, divided by their number, is its CPU per probe. Figures are min/median/max over
the rounds of each round's median.

    .venv/bin/python bench/refu_scrape.py [--rounds 5] [--scrapes 20] [--delays-ms 0,10,50]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

from common import (
    HOST,
    Processes,
    Scraper,
    Server,
    alternate,
    cpu_seconds,
    ratios,
    sample_values,
    spreads,
    start_exporter,
    start_refu_simulators,
    timed,
)
from pymodbus.client import ModbusTcpClient

UNIT_ID = 1


def bare_reads(client: ModbusTcpClient) -> Callable[[], float]:
    """Seconds for the read plan's two requests on a connected client."""

    def read() -> None:
        for answer in (
            client.read_holding_registers(0x200, count=11, device_id=UNIT_ID),
            client.read_input_registers(0x100, count=0x56, device_id=UNIT_ID),
        ):
            if answer.isError():
                raise RuntimeError(f"bare read failed: {answer}")

    return lambda: timed(read)


def probe(scraper: Scraper, simulator: Server) -> Callable[[], float]:
    """Seconds for one /probe of ``simulator``; fails unless refu_up 1."""
    path = f"/probe?module=refu&target={HOST}:{simulator.port}&unit_id={UNIT_ID}"
    if sample_values(scraper.get(path).body, "refu_up") != [1.0]:
        raise RuntimeError(f"/probe of {simulator.port} does not report refu_up 1")
    return lambda: scraper.get(path).seconds


def one_round(
    exporter: Server, variants: Mapping[float, Mapping[str, Callable[[], float]]], scrapes: int
) -> dict[str, float]:
    """Every latency once: bare and /probe alternated, and CPU per probe, keyed by latency."""
    result: dict[str, float] = {}
    for delay_ms, pair in variants.items():
        before = cpu_seconds(exporter.pid)
        medians = alternate(pair, scrapes)
        result[f"{delay_ms} cpu"] = (cpu_seconds(exporter.pid) - before) / scrapes
        result.update({f"{delay_ms} {name}": value for name, value in medians.items()})
    return result


def report(rounds: Sequence[dict[str, float]], delays_ms: Sequence[float]) -> None:
    figures = spreads(rounds)
    print(f"{len(rounds)} rounds; min/median/max of the per-round medians, ms")
    print(
        f"{'device delay':>12}  {'bare 2 reads':>20}  {'/probe HTTP':>20}  {'ratio':>16}  "
        f"{'exporter CPU/probe':>20}"
    )
    for delay in delays_ms:
        ratio = ratios(rounds, f"{delay} probe", f"{delay} bare")
        print(
            f"{delay:>9g} ms  {figures[f'{delay} bare'].show(1000):>20}  "
            f"{figures[f'{delay} probe'].show(1000):>20}  {ratio.show():>15}x  "
            f"{figures[f'{delay} cpu'].show(1000):>20}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=20, help="per variant and round")
    parser.add_argument("--delays-ms", default="0,10,50", help="device latencies, comma separated")
    args = parser.parse_args()
    delays_ms = [float(d) for d in args.delays_ms.split(",")]
    clients: list[ModbusTcpClient] = []
    with Processes() as processes:
        try:
            exporter = start_exporter(processes, "exporter")
            scraper = Scraper(exporter.port)
            variants = {}
            for delay in delays_ms:
                (simulator,) = start_refu_simulators(processes, 1, delay / 1000)
                client = ModbusTcpClient(HOST, port=simulator.port, timeout=5, retries=0)
                client.connect()
                clients.append(client)
                variants[delay] = {"bare": bare_reads(client), "probe": probe(scraper, simulator)}
            rounds = [one_round(exporter, variants, args.scrapes) for _ in range(args.rounds)]
        finally:
            for client in clients:
                client.close()
    report(rounds, delays_ms)


if __name__ == "__main__":
    main()

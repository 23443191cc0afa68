"""/metrics as Prometheus meets it: the first scrape after new values, asked for as Prometheus
asks (OpenMetrics, gzip), of 10 and 100 PowerOcean systems x 4 packs, against a bare
prometheus_client serving the same series in the same run.

Per size, an exporter (``ess-exporter run --config``), fed by this process through a
Mosquitto process, and a bare server process: prometheus_client's own ``start_http_server``
with its default registry (the process, platform and GC collectors the exporter has too)
and a Gauge, Counter or Info for every other series of the exporter's first /metrics, by
the same names and label sets.

Before each timed scrape of an exporter (not timed) every system sends the mid-session
updates of one 15 s scrape interval (one every 2 s, its clock moving on, so every value is
new); once Mosquitto has acked them all, the bench waits until the exporter has used no CPU
for 0.1 s (the settle, printed) and scrapes. The body of that scrape must count every frame
sent so far, or the bench stops: nothing else scrapes the exporter, so the timed scrape is
the first after the new values and holds all of them. Before each timed scrape of a bare
server (not timed) it is given the values of the exporter's scrape just before. A time
runs from the request to the last byte of the gzip'd answer, on a kept-alive connection.
The variants alternate within a round (each exporter before its bare server); figures are
min/median/max over the rounds of each round's median.

    .venv/bin/python bench/metrics_scrape.py [--rounds 5] [--scrapes 5] [--systems 10,100]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from common import (
    HOST,
    TICKS_PER_SCRAPE,
    Answer,
    Processes,
    Scraper,
    Server,
    Spread,
    Systems,
    alternate,
    connected_publisher,
    frames_counted,
    powerocean_config,
    publish,
    ratios,
    scrape,
    series,
    spreads,
    start_exporter,
    start_mosquitto,
    wait_for_frames,
    wait_for_port,
    wait_for_subscription,
    wait_until_idle,
)
from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Info,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from exporter.simulate import free_port

PACKS = 4

# -- the bare server (its own process) ------------------------------------------------------

#: A series: its sample name and labels.
SeriesKey = tuple[str, frozenset[tuple[str, str]]]
Setter = Callable[[float], None]


class _CounterValue:
    """Sets a prometheus_client Counter, which has no ``set``, by its increase."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._value = 0.0

    def __call__(self, value: float) -> None:
        self._counter.inc(value - self._value)
        self._value = value


def _key(sample: Sample) -> SeriesKey:
    return sample.name, frozenset(sample.labels.items())


def _instrument(family: Metric) -> Iterator[tuple[SeriesKey, Setter]]:
    """A metric of the default registry for ``family``, and the setter of each of its
    series. An info series' labels are its metric's labels plus the info's own: the labels
    every series of the family has are the metric's."""
    label_sets = [set(sample.labels) for sample in family.samples]
    # A family without series (its values not reported) is written with HELP and TYPE only,
    # as a metric with labels and no children is.
    shared = sorted(set.intersection(*label_sets)) if label_sets else ["unseen"]
    if family.type == "info":
        info = Info(family.name, family.documentation, shared)
        for sample in family.samples:
            series = info.labels(*(sample.labels[n] for n in shared)) if shared else info
            series.info({k: v for k, v in sample.labels.items() if k not in shared})
            yield _key(sample), lambda value: None  # always 1
        return
    if family.type not in ("gauge", "counter") or any(s != set(shared) for s in label_sets):
        raise ValueError(f"{family.name}: a {family.type} with series of other label names")
    metric = (Gauge if family.type == "gauge" else Counter)(
        family.name, family.documentation, shared
    )
    for sample in family.samples:
        child = metric.labels(*(sample.labels[n] for n in shared)) if shared else metric
        yield _key(sample), child.set if isinstance(child, Gauge) else _CounterValue(child)


def serve_bare(port: int) -> None:
    """The bare server: metrics for the exposition in the file named by the first line of
    standard input, then the values of the exposition named by each next line; "ok" on
    standard output after each. The default registry's own families are left to it."""
    disable_created_metrics()  # the exporter writes no _created series
    own = {family.name for family in REGISTRY.collect()}

    def families(line: str) -> Iterator[Metric]:
        exposition = Path(line.strip()).read_text()
        return (f for f in text_string_to_metric_families(exposition) if f.name not in own)

    setters = dict(
        item for family in families(sys.stdin.readline()) for item in _instrument(family)
    )
    start_http_server(port, addr=HOST)
    print("ok", flush=True)
    for line in sys.stdin:
        for family in families(line):
            for sample in family.samples:
                setters[_key(sample)](sample.value)
        print("ok", flush=True)


class BareServer:
    """The bare server's process, and the connection it is scraped on, kept as Prometheus
    keeps one (prometheus_client's server closes it after each answer)."""

    def __init__(self, processes: Processes, name: str, exposition: bytes) -> None:
        self._name = name
        self._processes = processes
        self._file = processes.directory / f"{name}.txt"
        port = free_port()
        self._child = processes.start(
            name, sys.executable, __file__, "--bare-server", str(port), piped=True
        )
        self._serve(exposition)
        wait_for_port(port, self._child)
        self._scraper = Scraper(port)

    def _serve(self, exposition: bytes) -> None:
        """The bare server takes the values of ``exposition``; returns once it has."""
        assert self._child.stdin is not None and self._child.stdout is not None
        self._file.write_bytes(exposition)
        self._child.stdin.write(f"{self._file}\n".encode())
        self._child.stdin.flush()
        if self._child.stdout.readline() != b"ok\n":
            raise RuntimeError(f"the bare server failed:\n{self._processes.log_tail(self._name)}")

    def scrape_with(self, values: Answer) -> Answer:
        """A scrape after taking the values of an exporter's scrape; it must serve as many
        series, with the same frame counts."""
        self._serve(values.body)
        answer = self._scraper.get("/metrics")
        if (series(answer.body), frames_counted(answer.body)) != (
            series(values.body),
            frames_counted(values.body),
        ):
            raise RuntimeError(f"{self._name} does not serve the exporter's series and values")
        return answer


# -- the exporter's side --------------------------------------------------------------------


@dataclass
class FedExporter:
    """An exporter holding ``systems``, fed through Mosquitto by ``publisher``."""

    server: Server
    systems: Systems
    publisher: mqtt.Client
    #: Frames sent to it so far.
    frames: int
    scraper: Scraper
    #: Seconds it took after Mosquitto's acks until it was idle, before each timed scrape.
    settles: list[float]

    def scrape_after_updates(self) -> Answer:
        """The first scrape after every system sent a scrape interval's updates; it must
        count every frame sent."""
        self.frames += publish(self.publisher, self.systems.updates(TICKS_PER_SCRAPE))
        self.settles.append(wait_until_idle(self.server.pid))
        answer = self.scraper.get("/metrics")
        if (counted := frames_counted(answer.body)) != self.frames:
            raise RuntimeError(
                f"the timed scrape counts {counted:.0f} of {self.frames} frames: "
                "the exporter was idle before it took them all in"
            )
        return answer


def start_fed_exporter(
    processes: Processes, broker: Server, publisher: mqtt.Client, count: int
) -> FedExporter:
    """An exporter holding ``count`` systems, each having sent a whole get-all."""
    systems = Systems(count, PACKS)
    name = f"exporter-{count}x{PACKS}"
    server = start_exporter(processes, name, powerocean_config(broker, systems.serials))
    wait_for_subscription(server)
    frames = publish(publisher, systems.get_all())
    wait_for_frames(server, frames)
    return FedExporter(server, systems, publisher, frames, Scraper(server.port), [])


@dataclass
class Size:
    """One size: its exporter, its bare server, and the exporter's last timed scrape."""

    exporter: FedExporter
    bare: BareServer
    last: Answer

    def variants(self, name: str) -> dict[str, Callable[[], float]]:
        """The exporter's timed scrape, then the bare server's with the same values."""

        def exporter() -> float:
            self.last = self.exporter.scrape_after_updates()
            return self.last.seconds

        return {
            f"{name} exporter": exporter,
            f"{name} bare": lambda: self.bare.scrape_with(self.last).seconds,
        }


def start_size(
    processes: Processes, broker: Server, publisher: mqtt.Client, count: int
) -> tuple[Size, Answer]:
    """An exporter of ``count`` systems and its bare server; the bare server's first answer."""
    exporter = start_fed_exporter(processes, broker, publisher, count)
    first = scrape(exporter.server.port, "/metrics")
    bare = BareServer(processes, f"bare-{count}x{PACKS}", first.body)
    return Size(exporter, bare, first), bare.scrape_with(first)


# -- figures ----------------------------------------------------------------------------------


def report(
    rounds: Sequence[dict[str, float]],
    sizes: dict[str, tuple[Size, Answer]],
) -> None:
    figures = spreads(rounds)
    print(
        "/metrics, the first scrape after new values, as Prometheus asks (OpenMetrics, gzip); "
        f"ms, min/median/max over {len(rounds)} round medians"
    )
    for name, (size, bare_answer) in sizes.items():
        last = size.last
        settle = Spread.of(size.exporter.settles)
        print(f"  {name} packs: {series(last.body)} series")
        print(
            f"    exporter                {figures[f'{name} exporter'].show(1000, 1):>20}  "
            f"({len(last.raw)} bytes gzip; idle {settle.show(1000, 0)} ms after the acks)"
        )
        print(
            f"    bare prometheus_client  {figures[f'{name} bare'].show(1000, 1):>20}  "
            f"({len(bare_answer.raw)} bytes gzip)"
        )
        ratio = ratios(rounds, f"{name} exporter", f"{name} bare")
        print(f"    exporter/bare           {ratio.show():>20}x")


def measure(args: argparse.Namespace) -> None:
    with Processes() as processes:
        broker = start_mosquitto(processes)
        publisher = connected_publisher(broker)
        try:
            sizes = {
                f"{count} systems x {PACKS}": start_size(processes, broker, publisher, count)
                for count in args.systems
            }
            variants: dict[str, Callable[[], float]] = {}
            for name, (size, _) in sizes.items():
                variants |= size.variants(name)
            rounds = [alternate(variants, args.scrapes) for _ in range(args.rounds)]
        finally:
            publisher.disconnect()
            publisher.loop_stop()
    report(rounds, sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=5, help="per variant and round")
    parser.add_argument(
        "--systems",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[10, 100],
        help="systems of 4 packs, per exporter, comma separated",
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare(args.bare_server)
    else:
        measure(args)


if __name__ == "__main__":
    main()

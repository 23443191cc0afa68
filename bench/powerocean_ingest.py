"""PowerOcean: ingest end to end through Mosquitto against a bare paho subscriber, and the
time /metrics takes for many systems as Prometheus asks for it.

A Mosquitto process, the exporter (``ess-exporter run --config``) and a bare paho
subscriber, each in its own process, both subscribed to the same system's topic. This
process publishes the simulator's mid-session payloads (``PowerOceanModel.update``) there
at QoS 1 as fast as it can, so both take in the same stream at the same time: each run
measures both variants under the same load, the publisher's pace included. Frames per
second is the frames published over the time from the first publish to the last frame
taken in (the exporter's ``powerocean_last_message_timestamp_seconds``, the subscriber's
own clock); CPU per frame is each process's user and system time over the run. Two more
exporters hold 10 and 100 systems with 4 packs each and are scraped in turn with
Prometheus' headers; before each scrape (not timed) every system sends the mid-session
updates of one 15 s scrape interval (one every 2 s), so each scrape finds what a scrape
every 15 s would: new energy flows, heartbeats and packs. Figures are min/median/max over
the rounds.

    .venv/bin/python bench/powerocean_ingest.py [--rounds 5] [--payloads 10000] [--scrapes 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from common import (
    HOST,
    Processes,
    Scraper,
    Server,
    alternate,
    cpu_seconds,
    ratios,
    sample_values,
    scrape,
    series,
    spreads,
    start_exporter,
    start_mosquitto,
    timed,
)
from google.protobuf.message import Message
from paho.mqtt.enums import CallbackAPIVersion

from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher

TOPIC = "/app/device/property/{}"
#: Mid-session updates each fed system cycles through, and sends before each /metrics: the
#: updates of a 15 s scrape interval, one every 2 s.
UPDATE_TICKS = 30
TICKS_PER_SCRAPE = 7
INGEST_SERIAL = "R371BENCH0INGEST"
#: A subscriber line: "ready", then "done <unix time>" after each ``--count`` messages.
READY, DONE = "ready", "done"


# -- the bare subscriber (its own process) ----------------------------------------------


def bare_subscriber(port: int, topic: str, count: int) -> None:
    """Count messages on ``topic`` and print the time each ``count``-th arrived."""
    received = 0

    def on_message(*_: object) -> None:
        nonlocal received
        received += 1
        if received % count == 0:
            print(f"{DONE} {time.time()}", flush=True)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare-subscriber")
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: print(READY, flush=True)
    client.on_message = on_message
    client.connect(HOST, port)
    client.loop_forever()


def wait_for_lines(log: Path, prefix: str, number: int, timeout: float = 120.0) -> list[str]:
    """The first ``number`` lines of ``log`` starting with ``prefix``, once there are."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if line.startswith(prefix)]
        if len(lines) >= number:
            return lines[:number]
        time.sleep(0.05)
    raise RuntimeError(f"{log.name}: fewer than {number} {prefix!r} lines after {timeout:.0f} s")


@dataclass(frozen=True)
class BareSubscriber:
    """The bare subscriber's process and the file its lines go to."""

    pid: int
    log: Path


def start_bare_subscriber(processes: Processes, broker: Server, count: int) -> BareSubscriber:
    """The bare subscriber on the exporter's system topic, once it is subscribed."""
    child = processes.start(
        "subscriber", sys.executable, __file__, "--bare-subscriber", str(broker.port), str(count)
    )
    subscriber = BareSubscriber(child.pid, processes.directory / "subscriber.log")
    wait_for_lines(subscriber.log, READY, 1)
    return subscriber


# -- payloads and publishing --------------------------------------------------------------


def update_payloads(serial: str, ticks: int = 30) -> list[tuple[bytes, int]]:
    """(payload, frames in it) of ``ticks`` consecutive mid-session pushes of a Plus."""
    model = PowerOceanModel(epoch=0)
    publisher = PowerOceanPublisher(f"mqtt://{HOST}:1", serial, model=model)
    return [framed(publisher, model.update(1000.0 + 2 * tick, tick)) for tick in range(ticks)]


def framed(sender: PowerOceanPublisher, messages: dict[str, Message]) -> tuple[bytes, int]:
    """(payload, frames in it) of ``messages``."""
    return sender.payload(messages), len(messages)


def connected_publisher(broker: Server) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(1000)
    client.connect(HOST, broker.port)
    client.loop_start()
    return client


def publish(
    client: mqtt.Client, topic: str, payloads: Sequence[tuple[bytes, int]], count: int
) -> int:
    """Publish ``count`` payloads (cycling) at QoS 1, wait for the broker's acks; the frames."""
    info = None
    frames = 0
    for index in range(count):
        payload, frames_in = payloads[index % len(payloads)]
        info = client.publish(topic, payload, qos=1)
        frames += frames_in
    if info is not None:
        info.wait_for_publish(120)
    return frames


# -- the exporter's side --------------------------------------------------------------------


def exporter_config(processes: Processes, name: str, broker: Server, serials: list[str]) -> Path:
    path = processes.directory / f"{name}.yaml"
    devices = "".join(f"    - {serial}\n" for serial in serials)
    path.write_text(
        f"powerocean:\n  broker: {{url: 'mqtt://{HOST}:{broker.port}'}}\n"
        f"  keepalive_seconds: 0\n  devices:\n{devices}"
    )
    return path


def ingested(exporter: Server) -> tuple[float, float]:
    """(frames the exporter has decoded, Unix time of the last one)."""
    body = scrape(exporter.port, "/metrics").body
    last = sample_values(body, "powerocean_last_message_timestamp_seconds")
    return sum(sample_values(body, "powerocean_messages_received_total")), max(last, default=0.0)


def wait_for_frames(exporter: Server, total: float, timeout: float = 120.0) -> float:
    """Until the exporter has decoded ``total`` frames; the time of the last."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frames, last = ingested(exporter)
        if frames >= total:
            return last
        time.sleep(0.25)
    raise RuntimeError(f"the exporter decoded {frames:.0f} of {total:.0f} frames")


@dataclass
class FedExporter:
    """An exporter holding many systems, and the updates those systems send next."""

    server: Server
    #: Per tick, each system's payload for that tick.
    updates: list[list[tuple[str, tuple[bytes, int]]]]
    #: The timed scrapes' kept-alive connection, as Prometheus keeps one.
    scraper: Scraper
    tick: int = 0

    def refresh(self, publisher: mqtt.Client) -> None:
        """Every system sends its updates of one scrape interval; returns once the exporter
        took them in."""
        already, _ = ingested(self.server)
        frames = 0
        for _ in range(TICKS_PER_SCRAPE):
            for serial, payload in self.updates[self.tick % len(self.updates)]:
                frames += publish(publisher, TOPIC.format(serial), [payload], 1)
            self.tick += 1
        wait_for_frames(self.server, already + frames)


def start_fed_exporter(
    processes: Processes, broker: Server, publisher: mqtt.Client, systems: int, packs: int
) -> FedExporter:
    """An exporter holding ``systems`` systems, each having sent a whole get-all."""
    name = f"exporter-{systems}x{packs}"
    serials = [f"R371B{systems:03d}S{i:06d}" for i in range(systems)]
    exporter = start_exporter(
        processes, name, "--config", str(exporter_config(processes, name, broker, serials))
    )
    wait_for_subscription(exporter)
    total = 0
    models = {}
    for serial in serials:
        model = PowerOceanModel(packs=[f"{serial}P{i}" for i in range(packs)], epoch=0)
        sender = PowerOceanPublisher(f"mqtt://{HOST}:1", serial, model=model)
        models[serial] = (model, sender)
        get_all = framed(sender, model.messages(1000.0))
        total += publish(publisher, TOPIC.format(serial), [get_all], 1)
    wait_for_frames(exporter, total)
    updates = [
        [
            (serial, framed(sender, model.update(1000.0 + 2 * tick, tick)))
            for serial, (model, sender) in models.items()
        ]
        for tick in range(1, UPDATE_TICKS + 1)
    ]
    return FedExporter(exporter, updates, Scraper(exporter.port))


def wait_for_subscription(exporter: Server, timeout: float = 20.0) -> None:
    """Until the exporter is connected to the broker, and a moment for its SUBSCRIBE."""
    deadline = time.monotonic() + timeout
    while sample_values(scrape(exporter.port, "/metrics").body, "powerocean_mqtt_connected") != [
        1.0
    ]:
        if time.monotonic() > deadline:
            raise RuntimeError("the exporter did not connect to the broker")
        time.sleep(0.1)
    time.sleep(0.5)


# -- rounds ---------------------------------------------------------------------------------


def ingest_round(
    publisher: mqtt.Client,
    exporter: Server,
    subscriber: BareSubscriber,
    payloads: Sequence[tuple[bytes, int]],
    count: int,
    number: int,
) -> dict[str, float]:
    """Frames/s and CPU per frame of the bare subscriber and the exporter, taking in the same
    ``count`` payloads (``number``: the round, from 1)."""
    already, _ = ingested(exporter)
    cpu = {"bare": cpu_seconds(subscriber.pid), "exporter": cpu_seconds(exporter.pid)}
    started = time.time()
    frames = publish(publisher, TOPIC.format(INGEST_SERIAL), payloads, count)
    published = time.time()
    bare_done = float(wait_for_lines(subscriber.log, DONE, number)[-1].split()[1])
    exporter_done = wait_for_frames(exporter, already + frames)
    return {
        "published": frames / (published - started),
        "bare": frames / (bare_done - started),
        "exporter": frames / (exporter_done - started),
        "bare cpu": (cpu_seconds(subscriber.pid) - cpu["bare"]) / frames,
        "exporter cpu": (cpu_seconds(exporter.pid) - cpu["exporter"]) / frames,
    }


def render(fed: FedExporter, publisher: mqtt.Client) -> Callable[[], float]:
    """Seconds for one /metrics after every system sent a scrape interval's updates."""

    def measure() -> float:
        fed.refresh(publisher)
        return timed(lambda: fed.scraper.get("/metrics"))

    return measure


def report(
    ingest: list[dict[str, float]],
    renders: list[dict[str, float]],
    sizes: dict[str, tuple[int, int]],
) -> None:
    """Print the figures."""
    figures = spreads(ingest)
    print(
        "ingest through Mosquitto, the same stream to both; "
        f"min/median/max over {len(ingest)} rounds"
    )
    print(f"  publisher (acked)      {figures['published'].show(1, 0)} frames/s")
    print(
        f"  bare paho subscriber   {figures['bare'].show(1, 0)} frames/s  "
        f"CPU {figures['bare cpu'].show(1e6, 0)} us/frame"
    )
    print(
        f"  exporter               {figures['exporter'].show(1, 0)} frames/s  "
        f"CPU {figures['exporter cpu'].show(1e6, 0)} us/frame"
    )
    print(f"  ratio exporter/bare    {ratios(ingest, 'exporter', 'bare').show()}x")
    print(f"/metrics as Prometheus asks, ms, min/median/max over {len(renders)} round medians")
    for name, spread in spreads(renders).items():
        count, wire = sizes[name]
        print(f"  {name} packs  {spread.show(1000, 1):>20}  ({count} series, {wire} bytes gzip)")


def measure(args: argparse.Namespace) -> None:
    with Processes() as processes:
        broker = start_mosquitto(processes)
        subscriber = start_bare_subscriber(processes, broker, args.payloads)
        publisher = connected_publisher(broker)
        try:
            exporter = start_exporter(
                processes,
                "exporter",
                "--config",
                str(exporter_config(processes, "ingest", broker, [INGEST_SERIAL])),
            )
            wait_for_subscription(exporter)
            payloads = update_payloads(INGEST_SERIAL)
            ingest = [
                ingest_round(publisher, exporter, subscriber, payloads, args.payloads, number)
                for number in range(1, args.rounds + 1)
            ]
            fed = {
                f"{systems} systems x 4": start_fed_exporter(
                    processes, broker, publisher, systems, 4
                )
                for systems in (10, 100)
            }
            sizes: dict[str, tuple[int, int]] = {}
            for name, exporter_ in fed.items():
                answer = scrape(exporter_.server.port, "/metrics")
                sizes[name] = (series(answer.body), answer.wire_bytes)
            variants = {name: render(exporter_, publisher) for name, exporter_ in fed.items()}
            renders = [alternate(variants, args.scrapes) for _ in range(args.rounds)]
        finally:
            publisher.disconnect()
            publisher.loop_stop()
    report(ingest, renders, sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--payloads", type=int, default=10000, help="per variant and run")
    parser.add_argument("--scrapes", type=int, default=3, help="of /metrics per round")
    parser.add_argument("--bare-subscriber", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_subscriber:
        port, count = args.bare_subscriber
        bare_subscriber(port, TOPIC.format(INGEST_SERIAL), count)
    else:
        measure(args)


if __name__ == "__main__":
    main()

"""PowerOcean: ingest end to end through Mosquitto, the exporter against a bare paho
subscriber taking in the same stream.

A Mosquitto process, the exporter (``ess-exporter run --config``) and a bare paho
subscriber, each in its own process, both subscribed to the same system's topic. This
process publishes a system's mid-session updates (``PowerOceanModel.update``, the device
clock moving on with each) there at QoS 1 as fast as it can, so both take in the same
stream at the same time: each round measures both under the same load, the publisher's
pace included. Frames per second is the frames published over the time from the first
publish to the last frame taken in (the exporter's
``powerocean_last_message_timestamp_seconds``, the subscriber's own clock); CPU per frame
is each process's user and system time over the round. Figures are min/median/max over
the rounds.

    .venv/bin/python bench/powerocean_ingest.py [--rounds 5] [--payloads 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from common import (
    HOST,
    Payload,
    Processes,
    Server,
    Systems,
    connected_publisher,
    cpu_seconds,
    frames_counted,
    powerocean_config,
    publish,
    ratios,
    scrape,
    spreads,
    start_exporter,
    start_mosquitto,
    wait_for_frames,
    wait_for_subscription,
)
from paho.mqtt.enums import CallbackAPIVersion

#: A subscriber line: "ready", then "done <unix time>" after each ``--payloads`` messages.
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


def start_bare_subscriber(
    processes: Processes, broker: Server, topic: str, count: int
) -> BareSubscriber:
    """The bare subscriber on ``topic``, once it is subscribed."""
    child = processes.start(
        "subscriber",
        sys.executable,
        __file__,
        "--bare-subscriber",
        str(broker.port),
        topic,
        str(count),
    )
    subscriber = BareSubscriber(child.pid, processes.directory / "subscriber.log")
    wait_for_lines(subscriber.log, READY, 1)
    return subscriber


# -- rounds ---------------------------------------------------------------------------------


def ingest_round(
    publisher: mqtt.Client,
    exporter: Server,
    subscriber: BareSubscriber,
    payloads: Sequence[Payload],
    number: int,
) -> dict[str, float]:
    """Frames/s and CPU per frame of the bare subscriber and the exporter, taking in the same
    ``payloads`` (``number``: the round, from 1)."""
    already = frames_counted(scrape(exporter.port, "/metrics").body)
    cpu = {"bare": cpu_seconds(subscriber.pid), "exporter": cpu_seconds(exporter.pid)}
    started = time.time()
    frames = publish(publisher, payloads)
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


def report(rounds: list[dict[str, float]]) -> None:
    figures = spreads(rounds)
    print(
        "ingest through Mosquitto, the same stream to both; "
        f"min/median/max over {len(rounds)} rounds"
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
    print(f"  ratio exporter/bare    {ratios(rounds, 'exporter', 'bare').show()}x")


def measure(args: argparse.Namespace) -> None:
    system = Systems(1)
    (topic,) = {payload.topic for payload in system.get_all()}
    with Processes() as processes:
        broker = start_mosquitto(processes)
        subscriber = start_bare_subscriber(processes, broker, topic, args.payloads)
        publisher = connected_publisher(broker)
        try:
            exporter = start_exporter(
                processes, "exporter", powerocean_config(broker, system.serials)
            )
            wait_for_subscription(exporter)
            rounds = [
                ingest_round(publisher, exporter, subscriber, system.updates(args.payloads), number)
                for number in range(1, args.rounds + 1)
            ]
        finally:
            publisher.disconnect()
            publisher.loop_stop()
    report(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--payloads", type=int, default=10000, help="per round")
    parser.add_argument(
        "--bare-subscriber", nargs=3, metavar=("PORT", "TOPIC", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.bare_subscriber:
        port, topic, count = args.bare_subscriber
        bare_subscriber(int(port), topic, int(count))
    else:
        measure(args)


if __name__ == "__main__":
    main()

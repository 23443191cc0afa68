"""What every benchmark shares: child processes, Prometheus' request, bursts of /probe,
PowerOcean systems fed through Mosquitto, rounds and statistics.

Every server a benchmark measures runs in its own process (``Processes`` stops them all on
exit, error or Ctrl+C). Variants are alternated inside each round; a round yields one
median per variant, and the figures are the min/median/max of those medians.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.client
import math
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from google.protobuf.message import Message
from paho.mqtt.enums import CallbackAPIVersion

from exporter.simulate import free_port
from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher

HOST = "127.0.0.1"
#: What Prometheus 2.x/3.x sends with every scrape (scrape_timeout 10 s).
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "X-Prometheus-Scrape-Timeout-Seconds": "10",
}
#: What X-Prometheus-Scrape-Timeout-Seconds says: a scrape that takes longer is lost.
SCRAPE_TIMEOUT = float(PROMETHEUS_HEADERS["X-Prometheus-Scrape-Timeout-Seconds"])
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


# -- processes ---------------------------------------------------------------------------


class Processes:
    """Child processes started for one benchmark run; all stopped when the block ends."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self.directory = Path(tempfile.mkdtemp(prefix="ess-bench-"))

    def start(self, name: str, *command: str, piped: bool = False) -> subprocess.Popen[bytes]:
        """``command`` with its output in a log file named ``name``; ``piped``: with its
        standard input and output as pipes to this process instead (errors still logged)."""
        log = (self.directory / f"{name}.log").open("wb")
        if piped:
            pipe = subprocess.PIPE
            child = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=log)
        else:
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._children.append(child)
        return child

    def log_tail(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop_all(self) -> None:
        """SIGTERM to every child, SIGKILL to those still there after 5 s."""
        for child in self._children:
            if child.poll() is None:
                child.terminate()
        for child in self._children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def wait_for_port(port: int, child: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until ``port`` accepts connections; raises when ``child`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{str(child.args)[:200]} exited with {child.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout:.0f} s")


@dataclass(frozen=True)
class Server:
    """A started child process and the loopback port it serves on."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def start_exporter(processes: Processes, name: str, config: str | None = None) -> Server:
    """``ess-exporter run`` on a free loopback port, once it accepts connections; with
    ``config`` (YAML text) as its configuration file."""
    port = free_port()
    args = ["--web.listen-address", f"{HOST}:{port}"]
    if config is not None:
        path = processes.directory / f"{name}.yaml"
        path.write_text(config)
        args += ["--config", str(path)]
    child = processes.start(name, sys.executable, "-m", "exporter", "run", *args)
    wait_for_port(port, child)
    return Server(child, port)


def start_refu_simulators(processes: Processes, count: int, delay_seconds: float) -> list[Server]:
    """``count`` processes of ``ess-exporter simulate refu`` answering every read after
    ``delay_seconds``, started together, once all accept connections."""
    ports: set[int] = set()
    while len(ports) < count:  # distinct, though none is taken before all are started
        ports.add(free_port())
    started = []
    for port in sorted(ports):
        listen = f"{HOST}:{port}"
        command = ("simulate", "refu", "--listen", listen, "--delay", str(delay_seconds))
        child = processes.start(f"refu-{port}", sys.executable, "-m", "exporter", *command)
        started.append(Server(child, port))
    for simulator in started:
        wait_for_port(simulator.port, simulator.process)
    return started


def start_mosquitto(processes: Processes) -> Server:
    """A Mosquitto on loopback that queues without limit, so no message is dropped."""
    port = free_port()
    config = processes.directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} {HOST}\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    child = processes.start("mosquitto", MOSQUITTO, "-c", str(config))
    wait_for_port(port, child)
    return Server(child, port)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process ``pid`` has used so far, to the nanosecond.

    Linux's CPU-time clock of another process (``clock_getcpuclockid(3)`` makes its id from
    the pid this way); /proc/<pid>/stat gives the same time rounded to 10 ms.
    """
    return time.clock_gettime(~pid << 3 | 2)


def rss_mib(pid: int) -> float:
    """The resident memory of process ``pid`` now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def wait_until_idle(pid: int, quiet: float = 0.1, timeout: float = 60.0) -> float:
    """Until process ``pid`` has used less than a tenth of a core for ``quiet`` seconds;
    the seconds from the call to the end of its last busy moment."""
    poll = 0.01
    started = time.perf_counter()
    last_busy = started
    cpu = cpu_seconds(pid)
    while (now := time.perf_counter()) - last_busy < quiet:
        if now - started > timeout:
            raise RuntimeError(f"process {pid} still busy after {timeout:.0f} s")
        time.sleep(poll)
        before, cpu = cpu, cpu_seconds(pid)
        if cpu - before > poll / 10:
            last_busy = time.perf_counter()
    return last_busy - started


# -- HTTP as Prometheus asks --------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    #: What came over the wire, and whether that is gzip'd.
    raw: bytes
    zipped: bool
    #: From sending the request to the last byte of the answer.
    seconds: float

    @property
    def body(self) -> bytes:
        """The body, unzipped."""
        return gzip.decompress(self.raw) if self.zipped else self.raw


def scrape(port: int, path: str, timeout: float = 15.0) -> Answer:
    """GET ``path`` with Prometheus' headers on a new connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        return _get(connection, path)
    finally:
        connection.close()


class Scraper:
    """GETs with Prometheus' headers on one kept-alive connection, as Prometheus scrapes a
    target again and again; a new connection when the server closed it."""

    def __init__(self, port: int, timeout: float = 15.0) -> None:
        self._connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str) -> Answer:
        try:
            return _get(self._connection, path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._connection.close()
            return _get(self._connection, path)

    def close(self) -> None:
        self._connection.close()


def _get(connection: http.client.HTTPConnection, path: str) -> Answer:
    started = time.perf_counter()
    connection.request("GET", path, headers=PROMETHEUS_HEADERS)
    response = connection.getresponse()
    raw = response.read()
    seconds = time.perf_counter() - started
    zipped = response.getheader("Content-Encoding") == "gzip"
    return Answer(response.status, raw, zipped, seconds)


def series(body: bytes) -> int:
    """Samples in an exposition (lines that are not comments)."""
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def sample_values(body: bytes, name: str) -> list[float]:
    """The values of every sample of metric ``name`` (any labels) in an exposition."""
    values = []
    for line in body.decode().splitlines():
        rest = line[len(name) :] if line.startswith(name) else ""
        if rest.startswith("{"):
            rest = rest.rsplit("}", 1)[1]
        if rest.startswith(" "):
            values.append(float(rest.split()[0]))
    return values


# -- bursts of /probe ------------------------------------------------------------------------

#: Unit ids a REFU simulator is probed as: one target each.
UNITS_PER_SIMULATOR = 200
#: The client gives up on a scrape after this long, so a burst always ends.
GIVE_UP_SECONDS = 30.0


def probe_paths(simulators: Sequence[Server], targets: int, first: int = 0) -> list[str]:
    """/probe paths of ``targets`` distinct targets, the ``first``-th on: each simulator's
    unit ids 1 to ``UNITS_PER_SIMULATOR``, spread over the simulators."""
    count = len(simulators)
    if first + targets > count * UNITS_PER_SIMULATOR:
        raise ValueError(f"{count} simulators are not {first + targets} targets")
    return [
        f"/probe?module=refu&target={HOST}:{simulators[i % count].port}&unit_id={i // count + 1}"
        for i in range(first, first + targets)
    ]


def simulators_for(targets: int) -> int:
    """REFU simulators needed for ``targets`` distinct targets."""
    return math.ceil(targets / UNITS_PER_SIMULATOR)


@dataclass(frozen=True)
class Probe:
    seconds: float
    up: bool


@dataclass(frozen=True)
class Burst:
    wall: float
    probes: tuple[Probe, ...]

    @property
    def up(self) -> int:
        """Probes that said refu_up 1."""
        return sum(p.up for p in self.probes)

    @property
    def late(self) -> int:
        """Probes that took longer than Prometheus waits."""
        return sum(p.seconds > SCRAPE_TIMEOUT for p in self.probes)

    def figures(self, prefix: str) -> dict[str, float]:
        return {f"{prefix} wall": self.wall, f"{prefix} up": self.up, f"{prefix} late": self.late}


def _request(path: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in PROMETHEUS_HEADERS.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _refu_up(answer: bytes) -> bool:
    """Whether an HTTP answer is a 200 whose exposition says refu_up 1."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith((b"HTTP/1.0 200", b"HTTP/1.1 200")):
        return False
    if b"content-encoding: gzip" in head.lower():
        body = gzip.decompress(body)
    return sample_values(body, "refu_up") == [1.0]


async def _probe(port: int, path: str) -> Probe:
    """One /probe on its own connection; a failure or a give-up counts as down."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(GIVE_UP_SECONDS):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(_request(path))
            answer = await reader.read()
            writer.close()
        up = _refu_up(answer)
    except (OSError, TimeoutError, EOFError):
        up = False
    return Probe(time.perf_counter() - started, up)


async def _burst(port: int, paths: Sequence[str]) -> Burst:
    started = time.perf_counter()
    probes = await asyncio.gather(*(_probe(port, path) for path in paths))
    return Burst(time.perf_counter() - started, tuple(probes))


def burst(port: int, paths: Sequence[str]) -> Burst:
    """Every path at once, each on its own connection."""
    return asyncio.run(_burst(port, paths))


def raise_file_limit() -> None:
    """As many open files as allowed: a burst's connections and the exporter's."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


# -- PowerOcean systems through Mosquitto ----------------------------------------------------

#: Mid-session updates a system sends in a 15 s scrape interval: one every 2 s.
TICKS_PER_SCRAPE = 7
#: Seconds of the device clock between two mid-session updates.
TICK_SECONDS = 2.0


@dataclass(frozen=True)
class Payload:
    """One MQTT payload of a system, and how many frames (messages) it carries."""

    topic: str
    data: bytes
    frames: int


class Systems:
    """Simulated PowerOcean Plus systems (``PowerOceanModel``) with ``packs`` packs each:
    a get-all, then mid-session updates, the device clock moving on with every one, so
    every update brings new values and the lifetime counters only grow."""

    def __init__(self, count: int, packs: int = 4, prefix: str = "R371B") -> None:
        self.serials = [f"{prefix}{count:03d}S{i:06d}" for i in range(count)]
        self._systems = []
        for serial in self.serials:
            model = PowerOceanModel(packs=[f"{serial}P{i}" for i in range(packs)], epoch=0)
            sender = PowerOceanPublisher(f"mqtt://{HOST}:1", serial, model=model)
            self._systems.append((model, sender))
        self._tick = 0

    def get_all(self) -> list[Payload]:
        """Every system's whole state, as it answers a get-all."""
        return [self._payload(s, m.messages(self._at())) for m, s in self._systems]

    def updates(self, ticks: int = 1) -> list[Payload]:
        """What every system pushes in the next ``ticks`` update intervals."""
        payloads = []
        for _ in range(ticks):
            self._tick += 1
            at = self._at()
            payloads += [self._payload(s, m.update(at, self._tick)) for m, s in self._systems]
        return payloads

    def _at(self) -> float:
        return 1000.0 + TICK_SECONDS * self._tick

    @staticmethod
    def _payload(sender: PowerOceanPublisher, messages: dict[str, Message]) -> Payload:
        return Payload(sender.topic, sender.payload(messages), len(messages))


def connected_publisher(broker: Server, name: str = "bench-publisher") -> mqtt.Client:
    """A paho client of this process connected to ``broker``, its network loop running."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    client.max_inflight_messages_set(1000)
    client.connect(HOST, broker.port)
    client.loop_start()
    return client


def publish(client: mqtt.Client, payloads: Iterable[Payload]) -> int:
    """Publish ``payloads`` at QoS 1 and wait for the broker's acks; the frames sent."""
    info = None
    frames = 0
    for payload in payloads:
        info = client.publish(payload.topic, payload.data, qos=1)
        frames += payload.frames
    if info is not None:
        info.wait_for_publish(120)
    return frames


def powerocean_config(broker: Server, serials: Iterable[str], refu: str = "") -> str:
    """An exporter configuration: the ``serials`` through ``broker``, and a ``refu``
    section (YAML, as it is)."""
    devices = "".join(f"    - {serial}\n" for serial in serials)
    return (
        f"{refu}powerocean:\n  broker: {{url: 'mqtt://{HOST}:{broker.port}'}}\n"
        f"  keepalive_seconds: 0\n  devices:\n{devices}"
    )


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


def frames_counted(body: bytes) -> float:
    """The frames an exporter's exposition says it has decoded."""
    return sum(sample_values(body, "powerocean_messages_received_total"))


def wait_for_frames(exporter: Server, total: float, timeout: float = 120.0) -> float:
    """Scrapes /metrics until the exporter has decoded ``total`` frames; the Unix time of
    the last one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = scrape(exporter.port, "/metrics").body
        if (frames := frames_counted(body)) >= total:
            last = sample_values(body, "powerocean_last_message_timestamp_seconds")
            return max(last, default=0.0)
        time.sleep(0.25)
    raise RuntimeError(f"the exporter decoded {frames:.0f} of {total:.0f} frames")


# -- rounds and statistics ----------------------------------------------------------------


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def alternate(variants: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """One round: each variant ``repeats`` times, in turn (A B C A B C ...); the median of
    what each call returned, by variant."""
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, measure in variants.items():
            results[name].append(measure())
    return {name: statistics.median(values) for name, values in results.items()}


@dataclass(frozen=True)
class Spread:
    """Min/median/max of one figure over rounds."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))

    def show(self, scale: float = 1.0, digits: int = 2) -> str:
        return "/".join(f"{v * scale:.{digits}f}" for v in (self.low, self.median, self.high))


def spreads(rounds: Sequence[Mapping[str, float]]) -> dict[str, Spread]:
    """Spread per figure over the rounds' values."""
    values: dict[str, list[float]] = {}
    for result in rounds:
        for name, value in result.items():
            values.setdefault(name, []).append(value)
    return {name: Spread.of(v) for name, v in values.items()}


def ratios(rounds: Sequence[Mapping[str, float]], variant: str, base: str) -> Spread:
    """Spread of ``variant / base`` taken within each round."""
    return Spread.of([r[variant] / r[base] for r in rounds])

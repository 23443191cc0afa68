"""What every benchmark shares: child processes, Prometheus' request, rounds and statistics.

Every server a benchmark measures runs in its own process (``Processes`` stops them all on
exit, error or Ctrl+C). Variants are alternated inside each round; a round yields one
median per variant, and the figures are the min/median/max of those medians.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.simulate import free_port

HOST = "127.0.0.1"
#: What Prometheus 2.x/3.x sends with every scrape (scrape_timeout 10 s).
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "X-Prometheus-Scrape-Timeout-Seconds": "10",
}
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


# -- processes ---------------------------------------------------------------------------


class Processes:
    """Child processes started for one benchmark run; all stopped when the block ends."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self.directory = Path(tempfile.mkdtemp(prefix="ess-bench-"))

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        """``command`` with its output in a log file named ``name``."""
        log = (self.directory / f"{name}.log").open("wb")
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


def wait_for_port(port: int, child: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Until ``port`` accepts connections; raises when ``child`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"{child.args[:4]} exited with {child.returncode}")
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


def start_exporter(processes: Processes, name: str, *args: str) -> Server:
    """``ess-exporter run ARGS`` on a free loopback port, once it accepts connections."""
    port = free_port()
    listen = f"{HOST}:{port}"
    child = processes.start(
        name, sys.executable, "-m", "exporter", "run", "--web.listen-address", listen, *args
    )
    wait_for_port(port, child)
    return Server(child, port)


def start_refu_simulator(processes: Processes, delay_seconds: float) -> Server:
    """``ess-exporter simulate refu`` answering every read after ``delay_seconds``."""
    port = free_port()
    child = processes.start(
        f"refu-{port}",
        sys.executable,
        "-m",
        "exporter",
        "simulate",
        "refu",
        "--listen",
        f"{HOST}:{port}",
        "--delay",
        str(delay_seconds),
    )
    wait_for_port(port, child)
    return Server(child, port)


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
    """User plus system CPU time the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


# -- HTTP as Prometheus asks --------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # decompressed
    wire_bytes: int


def scrape(port: int, path: str, timeout: float = 15.0) -> Answer:
    """GET ``path`` with Prometheus' headers on a new connection; the body unzipped."""
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
    connection.request("GET", path, headers=PROMETHEUS_HEADERS)
    response = connection.getresponse()
    raw = response.read()
    zipped = response.getheader("Content-Encoding") == "gzip"
    return Answer(response.status, gzip.decompress(raw) if zipped else raw, len(raw))


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

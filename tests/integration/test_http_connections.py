"""The HTTP front end under many connections: bursts, idle and slow clients, the limit."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Mapping

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.configfile import Config
from exporter.eventloop import EventLoopThread
from exporter.server import HttpServer
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator
from tests.support.scrape import parse

BURST = 300  # 60 times the listen queue the server used to have
#: Prometheus' default scrape timeout: an answer later than this is a failed scrape.
SCRAPE_TIMEOUT_SECONDS = 10


async def get_all(port: int, paths: list[str]) -> list[bytes]:
    """One connection per path, all opened at once, then one request on each; the answers."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in paths))
    for path, (_, writer) in zip(paths, connections, strict=True):
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        try:
            return await asyncio.wait_for(reader.read(), timeout=SCRAPE_TIMEOUT_SECONDS)
        finally:
            writer.close()

    return await asyncio.gather(*(answer(reader, writer) for reader, writer in connections))


def test_a_burst_larger_than_the_old_listen_queue_is_answered_whole(exporter_for):
    with (
        RefuSimulator("127.0.0.1", free_port(), delay_seconds=0.01) as one,
        RefuSimulator("127.0.0.1", free_port(), delay_seconds=0.01) as other,
    ):
        exporter = exporter_for(Config())
        # Each probe its own target (a target's scrapes wait for each other).
        paths = [
            f"/probe?module=refu&target=127.0.0.1:{sim.port}&unit_id={unit}"
            for sim in (one, other)
            for unit in range(1, BURST // 2 + 1)
        ]
        answers = asyncio.run(get_all(exporter.port, paths))
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].endswith(b" 200 OK"), head[:80]
        assert parse(body.decode()).value("refu_up") == 1.0


class Gate:
    """A module whose probe waits until the test opens the gate."""

    name = "gate"

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        #: Set once a probe waits at the gate.
        self.waiting = threading.Event()

    async def scrape(self, timeout: float | None) -> list[Metric]:
        return []

    async def probe(self, params: Mapping[str, str], timeout: float | None) -> list[Metric]:
        self.waiting.set()
        await self.opened.wait()
        return [GaugeMetricFamily("gate_open", "1 once the gate opened.", value=1)]

    def links(self) -> list[tuple[str, str]]:
        return []


@pytest.fixture
def server_with() -> Iterator:
    started: list[tuple[HttpServer, EventLoopThread]] = []

    def start(**limits: float) -> tuple[HttpServer, Gate, EventLoopThread]:
        loop = EventLoopThread("test-http")
        gate = Gate()
        server = HttpServer("127.0.0.1", 0, loop, collectors=[], modules=[gate], **limits)
        started.append((server, loop))
        return server, gate, loop

    yield start
    for server, loop in started:
        server.stop()
        loop.stop()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed ``connection`` (end of stream, or a reset)."""
    try:
        return connection.recv(1024) == b""
    except ConnectionResetError:
        return True


def healthy(port: int) -> bytes:
    with connect(port) as connection:
        connection.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return connection.recv(1024)


def idle_connection(port: int) -> socket.socket:
    """A connection the server has taken and answered once: open, with no request in flight."""
    connection = connect(port)
    connection.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b"Healthy\n"):
        answer += connection.recv(1024)
    return connection


def test_idle_and_slow_connections_are_closed(server_with):
    server, _, _ = server_with(idle_seconds=0.5)
    with connect(server.port) as idle, connect(server.port) as slow:
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: ")  # and nothing more
        started = time.monotonic()
        assert closed_by_server(idle)
        assert closed_by_server(slow)
        assert time.monotonic() - started < 9  # closed by the server, not by our timeout
    assert healthy(server.port).startswith(b"HTTP/1.1 200 OK")


def test_beyond_the_limit_the_oldest_idle_connection_makes_room(server_with):
    server, gate, loop = server_with(max_connections=5)
    busy = connect(server.port)
    busy.sendall(b"GET /probe?module=gate HTTP/1.1\r\nHost: x\r\n\r\n")
    assert gate.waiting.wait(10)
    idle = [idle_connection(server.port) for _ in range(4)]
    # A sixth connection: the oldest idle one is closed, the busy one kept.
    assert healthy(server.port).startswith(b"HTTP/1.1 200 OK")
    assert closed_by_server(idle[0])
    loop.loop.call_soon_threadsafe(gate.opened.set)
    answer = busy.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"gate_open 1.0" in answer
    for connection in (busy, *idle):
        connection.close()

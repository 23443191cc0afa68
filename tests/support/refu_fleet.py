"""Many simulated REFUs, each on a port of its own, served by one event loop.

A fleet test or benchmark needs hundreds of distinct REFU addresses (Prometheus shards by
the address, ``__param_target``); a thread and a process each would be too many. Here the
simulators share one loop thread: ``RefuFleet`` in this process, or
``python -m tests.support.refu_fleet COUNT`` as a process of its own (it prints the ports,
one line, then serves until stdin closes or it is terminated).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from concurrent.futures import Future

from pymodbus.server import ModbusTcpServer

from exporter.eventloop import EventLoopThread
from exporter.refu.channels import load_refu_mapping
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator

HOST = "127.0.0.1"


class RefuFleet:
    """``count`` REFU simulators on free loopback ports, answering after ``delay_seconds``."""

    def __init__(self, count: int, delay_seconds: float = 0.0) -> None:
        self._mapping = load_refu_mapping()
        self._delay = delay_seconds
        ports: set[int] = set()
        while len(ports) < count:  # distinct, though none is taken before all listen
            ports.add(free_port())
        self.simulators = [self._simulator(port) for port in sorted(ports)]
        self._loop: EventLoopThread | None = None
        self._serving: list[Future[None]] = []

    @property
    def addresses(self) -> list[str]:
        """Every simulator's HOST:PORT, as Prometheus names a target."""
        return [f"{s.host}:{s.port}" for s in self.simulators]

    def start(self, timeout: float = 60.0) -> None:
        """Serve on a loop thread; returns once every port accepts connections. A simulator
        whose port was taken meanwhile (by any process of the machine) moves to another."""
        self._loop = EventLoopThread("refu-fleet")
        self._serving = [self._serve(s) for s in self.simulators]
        deadline = time.monotonic() + timeout
        for i in range(len(self.simulators)):
            while self._failed(i) or not _accepts(self.simulators[i].port):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"REFU simulator {i} does not listen")
                if self._failed(i):
                    taken = {s.port for s in self.simulators}
                    self.simulators[i] = self._simulator(free_port())
                    if self.simulators[i].port not in taken:
                        self._serving[i] = self._serve(self.simulators[i])
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop every simulator (cancelling their serving tasks) and the loop thread."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()

    def _simulator(self, port: int) -> RefuSimulator:
        return RefuSimulator(HOST, port, mapping=self._mapping, delay_seconds=self._delay)

    def _serve(self, simulator: RefuSimulator) -> Future[ModbusTcpServer]:
        """Start ``simulator`` on the loop; it serves until the loop stops."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(simulator.listen(), self._loop.loop)

    def _failed(self, index: int) -> bool:
        """Whether simulator ``index`` could not listen (its port was taken)."""
        serving = self._serving[index]
        return serving.done() and serving.exception() is not None

    def __enter__(self) -> RefuFleet:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    with RefuFleet(args.count, args.delay) as fleet:
        print(" ".join(str(s.port) for s in fleet.simulators), flush=True)
        sys.stdin.read()  # until the parent closes it (or ends this process)


if __name__ == "__main__":
    main()

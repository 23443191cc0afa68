"""Fixtures: real servers on loopback, started and stopped by the tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from exporter.app import Config, Exporter
from exporter.refu.config import RefuConfig, RefuTargetConfig
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator
from tests.exporter_process import start_run


@pytest.fixture
def refu_sim() -> Iterator[RefuSimulator]:
    simulator = RefuSimulator("127.0.0.1", free_port())
    simulator.freeze(at=1000.0)
    simulator.start()
    yield simulator
    simulator.stop()


def start_exporter(config: Config) -> Exporter:
    exporter = Exporter(config, host="127.0.0.1", port=0)
    exporter.start()
    return exporter


def refu_config(*simulators: RefuSimulator, timeout: float = 3.0, **settings: object) -> Config:
    targets = tuple(
        RefuTargetConfig(f"refu-{i}", "127.0.0.1", sim.port, 1, dict(settings))
        for i, sim in enumerate(simulators, 1)
    )
    return Config(refu=RefuConfig(timeout_seconds=timeout, targets=targets))


@pytest.fixture
def exporter_for(request: pytest.FixtureRequest):
    """Start an exporter for a config; stopped after the test."""
    started: list[Exporter] = []

    def start(config: Config) -> Exporter:
        exporter = start_exporter(config)
        started.append(exporter)
        return exporter

    yield start
    for exporter in started:
        exporter.stop()


@pytest.fixture
def run_exporter():
    """Start ``ess-exporter run ARGS`` as a process on a free loopback port; killed after."""
    processes: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, int]:
        process, port = start_run(*args)
        processes.append(process)
        return process, port

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()

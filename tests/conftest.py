"""Fixtures: real servers on loopback, started and stopped by the tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from exporter.app import Exporter
from exporter.configfile import Config
from exporter.refu.channels import RefuMapping
from exporter.simulate import free_port
from tests.support.exporter_process import ExporterProcess, start_run
from tests.support.exporters import start_exporter
from tests.support.refu_simulator import ControlledRefuSimulator


@pytest.fixture
def refu_sim() -> Iterator[ControlledRefuSimulator]:
    simulator = ControlledRefuSimulator("127.0.0.1", free_port())
    simulator.freeze(at=1000.0)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def exporter_for(request: pytest.FixtureRequest):
    """Start an exporter for a config (and a REFU mapping); stopped after the test."""
    started: list[Exporter] = []

    def start(config: Config, refu_mapping: RefuMapping | None = None) -> Exporter:
        exporter = start_exporter(config, refu_mapping)
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


@pytest.fixture
def exporter_process() -> Iterator:
    """Start ``ess-exporter run ARGS`` as an ``ExporterProcess`` (its log collected); stopped
    after the test."""
    started: list[ExporterProcess] = []

    def start(*args: str) -> ExporterProcess:
        process = ExporterProcess(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()

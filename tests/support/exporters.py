"""Exporters in the test process, started on a free loopback port."""

from __future__ import annotations

from exporter.app import Exporter
from exporter.configfile import Config
from exporter.modbus.config import ModbusTargetConfig
from exporter.refu.channels import RefuMapping
from exporter.refu.config import RefuConfig
from exporter.simulate.refu import RefuSimulator


def start_exporter(config: Config, refu_mapping: RefuMapping | None = None) -> Exporter:
    exporter = Exporter(config, host="127.0.0.1", port=0, refu_mapping=refu_mapping)
    exporter.start()
    return exporter


def refu_config(*simulators: RefuSimulator, timeout: float = 3.0, **settings: object) -> Config:
    targets = tuple(
        ModbusTargetConfig(f"refu-{i}", "127.0.0.1", sim.port, 1, dict(settings))
        for i, sim in enumerate(simulators, 1)
    )
    return Config(refu=RefuConfig(timeout_seconds=timeout, targets=targets))

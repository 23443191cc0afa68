"""``ess-exporter demo``: simulators and the exporter on one machine, no hardware needed."""

from __future__ import annotations

import contextlib
import logging

import click

from exporter.app import Exporter
from exporter.config import BrokerConfig, Config, PowerOceanConfig, RefuConfig, RefuTargetConfig
from exporter.simulate import free_port
from exporter.simulate.broker import EmbeddedBroker
from exporter.simulate.powerocean import PowerOceanPublisher
from exporter.simulate.refu import RefuSimulator

DEMO_SERIAL = "R371ZD1AZH000001"

log = logging.getLogger(__name__)


def run_demo(host: str, port: int) -> None:
    """Serve until interrupted; prints where to look."""
    loopback = "127.0.0.1"
    refu = RefuSimulator(loopback, free_port(loopback))
    refu.start()
    broker = EmbeddedBroker(loopback, free_port(loopback))
    broker.start()
    powerocean = PowerOceanPublisher(broker.url, DEMO_SERIAL)
    powerocean.start()
    config = Config(
        refu=RefuConfig(
            targets=(RefuTargetConfig("refu-sim", loopback, refu.port, 1, {"alias": "demo"}),)
        ),
        powerocean=PowerOceanConfig(
            devices={DEMO_SERIAL: "demo"}, broker=BrokerConfig(url=broker.url)
        ),
    )
    exporter = Exporter(config, host=host, port=port)
    shown = host or "localhost"
    click.echo(f"REFU simulator:  modbus://{loopback}:{refu.port}")
    click.echo(f"PowerOcean:      {DEMO_SERIAL} publishing to {broker.url}")
    click.echo(f"Exporter:        http://{shown}:{exporter.port}/metrics")
    click.echo(
        f"One REFU probe:  http://{shown}:{exporter.port}/probe?module=refu&target={loopback}:{refu.port}"
    )
    click.echo("Press Ctrl+C to stop.")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            exporter.serve_forever()
    finally:
        exporter.stop()
        powerocean.stop()
        broker.stop()
        refu.stop()

"""``ess-exporter demo``: simulators and the exporter on one machine, no hardware needed."""

from __future__ import annotations

import contextlib
import errno
import threading

import click

from exporter.app import Exporter
from exporter.config import join_address
from exporter.configfile import Config
from exporter.modbus.config import ModbusTargetConfig
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.refu.config import RefuConfig
from exporter.simulate import free_port
from exporter.simulate.broker import EmbeddedBroker
from exporter.simulate.powerocean import MODELS, PowerOceanPublisher
from exporter.simulate.refu import RefuSimulator
from exporter.simulate.sunspec import SunSpecSimulator
from exporter.sunspec.config import SunSpecConfig

LOOPBACK = "127.0.0.1"


def run_demo(host: str, port: int, model: str = "plus") -> None:
    """Serve until interrupted; prints where to look. Ctrl+C stops everything at once.
    ``model``: the simulated PowerOcean system's (a key of ``MODELS``)."""
    serial = MODELS[model].serial
    with contextlib.suppress(KeyboardInterrupt), contextlib.ExitStack() as running:
        refu = running.enter_context(RefuSimulator(LOOPBACK, free_port(LOOPBACK)))
        sunspec = running.enter_context(SunSpecSimulator(LOOPBACK, free_port(LOOPBACK)))
        broker = EmbeddedBroker(LOOPBACK, free_port(LOOPBACK))
        broker.start()
        running.callback(broker.stop)
        powerocean = PowerOceanPublisher(broker.url, serial, model=MODELS[model].make(serial))
        powerocean.start()
        running.callback(powerocean.stop)
        exporter = _exporter(_config(refu.port, broker.url, sunspec.port, serial), host, port)
        running.callback(exporter.stop)
        exporter.start()  # before the banner: Ctrl+C after it finds everything running
        url = f"http://{join_address(host or 'localhost', exporter.port)}"
        where = " (listening on every interface)" if host in ("", "0.0.0.0", "::") else ""
        click.echo(f"REFU simulator:  modbus://{LOOPBACK}:{refu.port}")
        click.echo(f"PowerOcean:      {serial} publishing to {broker.url}")
        click.echo(f"Exporter:        {url}/metrics{where}")
        click.echo(f"One REFU probe:  {url}/probe?module=refu&target={LOOPBACK}:{refu.port}")
        click.echo(f"SunSpec probe:   {url}/probe?module=sunspec&target={LOOPBACK}:{sunspec.port}")
        click.echo("Press Ctrl+C to stop.")
        threading.Event().wait()  # until Ctrl+C


def _config(refu_port: int, broker_url: str, sunspec_port: int, serial: str) -> Config:
    """The exporter's configuration for the simulators."""
    return Config(
        sunspec=SunSpecConfig(
            targets=(ModbusTargetConfig("refustore-sim", LOOPBACK, sunspec_port, 1),)
        ),
        refu=RefuConfig(
            targets=(ModbusTargetConfig("refu-sim", LOOPBACK, refu_port, 1, {"alias": "demo"}),)
        ),
        powerocean=PowerOceanConfig(devices={serial: "demo"}, broker=BrokerConfig(url=broker_url)),
    )


def _exporter(config: Config, host: str, port: int) -> Exporter:
    """The exporter bound to ``host:port``; a port in use ends the demo with one line."""
    try:
        return Exporter(config, host=host, port=port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"{host or '*'}:{port} is already in use; choose another address with "
            f"--web.listen-address, e.g. --web.listen-address {host or LOOPBACK}:{port + 1}"
        ) from None

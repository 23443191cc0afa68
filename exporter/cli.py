"""The ``ess-exporter`` command.

Each command imports what it needs when it runs, so that ``--help`` does not wait for the
HTTP server, aiohttp and the device transports to load.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import click

from exporter import __version__, logformat

if TYPE_CHECKING:
    from exporter.configfile import Config
    from exporter.webconfig import WebConfig

log = logging.getLogger("exporter")

#: Exit status for a configuration that cannot be used.
EXIT_CONFIG = 2

#: The port the exporter listens on when --web.listen-address names none.
DEFAULT_LISTEN_PORT = 9640


def _listen_address(value: str) -> tuple[str, int]:
    """``:9640``, ``0.0.0.0:9640`` or ``[::]:9640`` -> (host, port); "" listens everywhere."""
    from exporter.config import parse_address

    try:
        if value.startswith(":"):  # no host: checked as the port of any host
            return "", parse_address(f"0.0.0.0{value}", DEFAULT_LISTEN_PORT)[1]
        return parse_address(value, DEFAULT_LISTEN_PORT)
    except ValueError as exc:
        _fail([f"--web.listen-address {value[:64]!r}: {exc}"])


def _load(path: Path | None, web_path: Path | None = None) -> tuple[Config, WebConfig]:
    """The configuration and the web configuration (None: defaults), or exit with the problems."""
    from exporter.config import ConfigError
    from exporter.configfile import Config, load_config
    from exporter.model import MappingError
    from exporter.refu.channels import load_refu_mapping
    from exporter.webconfig import WebConfig, load_web_config

    try:
        settings = load_refu_mapping().settings
        config = Config() if path is None else load_config(path, settings)
        return config, load_web_config(web_path) if web_path else WebConfig()
    except ConfigError as exc:
        _fail(exc.problems)
    except MappingError as exc:
        _fail([str(exc)])


def _fail(problems: list[str]) -> NoReturn:
    for line in problems:
        click.echo(line, err=True)
    sys.exit(EXIT_CONFIG)


class _Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def _serve(service: _Service, banner: str = "") -> None:
    """Start ``service`` and stop it once interrupted (Ctrl+C; ``run`` also on SIGTERM)."""
    try:
        service.start()
        if banner:
            click.echo(banner)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        service.stop()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="ess-exporter")
def main() -> None:
    """Prometheus exporter for REFU battery inverters and EcoFlow PowerOcean systems."""


@main.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="YAML config.")
@click.option("--web.listen-address", "listen", default=":9640")
@click.option(
    "--web.config.file",
    "web_config_path",
    type=click.Path(path_type=Path),
    help="TLS and basic auth, Prometheus exporter format.",
)
@click.option("--log.level", "log_level", default="info", type=click.Choice(logformat.LEVELS))
@click.option("--log.format", "log_format", default="logfmt", type=click.Choice(logformat.FORMATS))
def run(
    config_path: Path | None,
    listen: str,
    web_config_path: Path | None,
    log_level: str,
    log_format: str,
) -> None:
    """Serve /metrics, /probe and /-/healthy."""
    from exporter.app import Exporter

    logformat.configure(log_level, log_format)
    host, port = _listen_address(listen)
    config, web_config = _load(config_path, web_config_path)
    try:
        exporter = Exporter(config, host=host, port=port, web_config=web_config)
    except OSError as exc:  # port in use, host not resolvable or not local
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        _fail([f"--web.listen-address {listen[:64]!r}: cannot listen: {reason}"])
    if not config.refu.targets and not config.sunspec.targets and config.powerocean is None:
        log.warning(
            "%s: no REFU targets and no PowerOcean system configured; serving only /probe "
            "and the exporter's own metrics",
            config_path or "no --config",
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _serve(exporter)


@main.command("check-config")
@click.argument("path", type=click.Path(path_type=Path))
def check_config(path: Path) -> None:
    """Exit 0 when PATH is a valid config, 2 with one line per error otherwise."""
    _load(path)
    click.echo(f"{path}: OK")


@main.command()
@click.option("--format", "output", type=click.Choice(["markdown", "json"]), default="markdown")
def metrics(output: str) -> None:
    """List every metric the exporter can serve (docs/metrics.md is the markdown)."""
    from exporter.reference import markdown, metric_rows

    rows = metric_rows()
    click.echo(json.dumps(rows, indent=2) if output == "json" else markdown(rows).rstrip("\n"))


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--topic", help="The MQTT topic the payload came on (it names the system).")
def decode(source: Any, topic: str | None) -> None:
    """Decode one PowerOcean MQTT payload (FILE or - for stdin) and print it as JSON.

    Every frame is listed with its command and message name ("unknown" when the
    schema has none), every field present (zeros included), and field numbers the
    schema does not know raw, so a capture from new firmware can be read.
    """
    from exporter.powerocean.channels import load_powerocean_mapping
    from exporter.powerocean.dump import describe
    from exporter.powerocean.ingest import SystemModels
    from exporter.powerocean.wire import DecodeError, split_payload

    mapping = load_powerocean_mapping()
    try:
        split = split_payload(source.read(), topic, need_serial=False)
    except DecodeError as exc:
        click.echo(f"cannot decode: {exc.reason}", err=True)
        sys.exit(1)
    models = SystemModels(mapping)
    frames = [models.decode(frame) for frame in split.frames]
    click.echo(json.dumps(describe(frames, split.skipped, mapping.ignored), indent=2))


@main.group()
def simulate() -> None:
    """Simulated devices, for the demo and for tests."""
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@simulate.command("refu")
@click.option("--listen", default="127.0.0.1:5020", help="HOST:PORT")
@click.option(
    "--delay", type=float, default=0.0, help="Seconds to wait before each answer (a slow link)."
)
def simulate_refu(listen: str, delay: float) -> None:
    """Serve the REFU register map over Modbus TCP, with changing values; refuses writes."""
    from exporter.config import parse_address
    from exporter.modbus.config import DEFAULT_MODBUS_PORT
    from exporter.simulate.refu import RefuSimulator

    host, port = parse_address(listen, DEFAULT_MODBUS_PORT)
    simulator = RefuSimulator(host, port, delay_seconds=delay)
    _serve(simulator, f"REFU simulator on {host}:{port} (Modbus TCP, read-only)")


@simulate.command("sunspec")
@click.option("--listen", default="127.0.0.1:5021", help="HOST:PORT")
@click.option(
    "--chain",
    type=click.Choice(["refustore-88k", "storage"]),
    default="refustore-88k",
    help="A REFUstore 88K, or a single-phase inverter with a storage model (at register 0).",
)
def simulate_sunspec(listen: str, chain: str) -> None:
    """Serve a SunSpec inverter over Modbus TCP, with changing values; answers reads only."""
    from exporter.config import parse_address
    from exporter.modbus.config import DEFAULT_MODBUS_PORT
    from exporter.simulate.sunspec import CHAINS, SunSpecSimulator

    host, port = parse_address(listen, DEFAULT_MODBUS_PORT)
    simulator = SunSpecSimulator(host, port, chain=CHAINS[chain])
    _serve(simulator, f"SunSpec simulator ({chain}) on {host}:{port} (Modbus TCP, read-only)")


#: The models ``simulate powerocean`` and ``demo`` run (exporter.simulate.powerocean.MODELS).
SIMULATED_MODELS = ("plus", "dc-fit", "ocean2")


@simulate.command("powerocean")
@click.option("--broker", required=True, help="mqtt://[user:password@]host:port")
@click.option("--serial", help="Default: R371ZD1AZH000001; RE11ZD1AZH000001 for ocean2.")
@click.option("--interval", type=float, default=2.0, help="Seconds.")
@click.option("--model", type=click.Choice(SIMULATED_MODELS), default="plus")
@click.option(
    "--open-api",
    "account",
    metavar="ACCOUNT",
    help="Publish as the Open API does: JSON on /open/ACCOUNT/<serial>/quota.",
)
def simulate_powerocean(
    broker: str, serial: str | None, interval: float, model: str, account: str | None
) -> None:
    """Publish a PowerOcean system with two battery packs to an MQTT broker."""
    from exporter.simulate.powerocean import MODELS, PowerOceanPublisher

    simulated = MODELS[model]
    serial = serial or simulated.serial
    publisher = PowerOceanPublisher(
        broker, serial, interval=interval, model=simulated.make(serial), open_api_account=account
    )
    _serve(publisher, f"PowerOcean simulator {serial} publishing on {publisher.topic}")


@main.command()
@click.option(
    "--web.listen-address",
    "listen",
    default="127.0.0.1:9640",
    help="Where the exporter listens; another port when 9640 is taken, :PORT for every interface.",
)
@click.option(
    "--model",
    type=click.Choice(SIMULATED_MODELS),
    default="plus",
    help="The simulated PowerOcean system.",
)
def demo(listen: str, model: str) -> None:
    """Run the simulators and the exporter on this machine; prints the URL to open."""
    from exporter.simulate.demo import run_demo

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port = _listen_address(listen)
    run_demo(host, port, model)

"""Broker trouble against the running exporter: the wrong scheme for a port, refused passwords."""

from __future__ import annotations

from pathlib import Path

from tests.support.exporter_process import ExporterProcess
from tests.support.mosquitto import Mosquitto
from tests.support.scrape import scrape
from tests.support.secrets import assert_no_secret

BROKER_PASSWORD = "broker-Secret-98765"


def broker_config(
    directory: Path, url: str, password: str | None = None, ca: Path | None = None
) -> Path:
    lines = ["powerocean:", f"  broker: {{url: '{url}'"]
    if password is not None:
        (directory / "broker-password").write_text(password)
        lines[-1] += ", username: exporter, password_file: broker-password"
    if ca is not None:
        lines[-1] += f", ca_file: '{ca}'"
    lines[-1] += "}"
    lines += ["  devices: [R371ZD1AZH000001]", "  timeout_seconds: 2"]
    config = directory / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run_until_logged(config: Path, text: str) -> tuple[str, ExporterProcess, str]:
    process = ExporterProcess("--config", str(config))
    try:
        process.wait_until_served()
        line = process.wait_for_log(text)
        metrics = scrape(f"{process.url}/metrics").text
    finally:
        process.stop()
    return line, process, metrics


def test_plain_mqtt_against_a_tls_port_says_so(tmp_path):
    with Mosquitto(tmp_path / "broker", tls=True) as broker:
        config = broker_config(tmp_path, broker.url.replace("mqtts://", "mqtt://"))
        line, _, metrics = run_until_logged(config, "PowerOcean broker")
    assert "(a TLS port? then use mqtts://)" in line
    assert "powerocean_mqtt_connected 0.0" in metrics


def test_tls_against_a_plain_port_says_so(tmp_path):
    with Mosquitto(tmp_path / "broker") as broker:
        config = broker_config(tmp_path, broker.url.replace("mqtt://", "mqtts://"))
        line, _, _ = run_until_logged(config, "no connection")
    assert "(a plain MQTT port? then use mqtt://)" in line


def test_a_refused_broker_password_is_never_shown(tmp_path):
    with Mosquitto(tmp_path / "broker", users={"exporter": "the-right-one"}) as broker:
        config = broker_config(tmp_path, broker.url, password=BROKER_PASSWORD)
        line, process, metrics = run_until_logged(config, "refused the connection")
    assert "Not authorized" in line or "Bad user name or password" in line
    for text in (process.log, metrics):
        assert_no_secret(text, BROKER_PASSWORD)

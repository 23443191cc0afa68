"""Broken settings: check-config and run exit 2 with one ``FILE: KEY: reason`` line each."""

from __future__ import annotations

import json
import socket

import pytest
import trustme

from tests.support.exporter_process import ExporterProcess, run_command
from tests.support.lying_modbus import LyingModbusServer
from tests.support.scrape import scrape

BROKEN_REFU_TARGETS = [
    ("min_soc_percent: ten", "min_soc_percent", "must be a number 0..100, got 'ten'"),
    ("min_soc_percent: 150", "min_soc_percent", "must be a number 0..100, got 150"),
    ("charge_soc_percent: -1", "charge_soc_percent", "must be a number 0..100, got -1"),
    ("min_soc_percent: .nan", "min_soc_percent", "must be a number 0..100, got nan"),
    ("capacity_wh: -5", "capacity_wh", "must be a number > 0, got -5"),
    ("capacity_wh: 0", "capacity_wh", "must be a number > 0, got 0"),
    ("max_nominal_power_va: true", "max_nominal_power_va", "must be a number > 0, got True"),
    ("alias: [a]", "alias", "must be text, got ['a']"),
    ("unit_id: 256", "unit_id", "must be a whole number 0..255, got 256"),
    ("unit_id: 1.5", "unit_id", "must be a whole number 0..255, got 1.5"),
    ("address: 'http://10.0.0.1:502'", "address", "must be host:port, not a URL"),
    ("address: '10.0.0.1:0'", "address", "port must be a number 1..65535, got '0'"),
    ("address: '10.0.0.1:http'", "address", "port must be a number 1..65535, got 'http'"),
    ("address: '[::1'", "address", "must be [IPv6 address]:port"),
    ("address: 'a b:502'", "address", "contains spaces or control characters"),
    ("colour: red", "colour", "unknown key"),
]


@pytest.mark.parametrize(("setting", "key", "reason"), BROKEN_REFU_TARGETS)
def test_check_config_names_file_key_and_reason(tmp_path, setting, key, reason):
    config = tmp_path / "config.yml"
    address = "" if key == "address" else "address: '10.0.0.1:502', "
    config.write_text(f"refu:\n  targets:\n    - {{name: a, {address}{setting}}}\n")
    status, errors = run_command("check-config", str(config))
    assert status == 2
    assert errors.splitlines() == [f"{config}: refu.targets[0].{key}: {reason}"]


@pytest.mark.parametrize("address", ["10.0.0.1", "::1", "[::1]:5020", "refu-1.lan:1502"])
def test_addresses_that_check_config_accepts(tmp_path, address):
    config = tmp_path / "config.yml"
    config.write_text(
        f"refu:\n  targets:\n    - {{name: a, address: '{address}', min_soc_percent: 5}}\n"
    )
    assert run_command("check-config", str(config)) == (0, "")


def test_a_healthy_device_with_valid_settings_is_up(tmp_path):
    with LyingModbusServer() as device:
        config = tmp_path / "config.yml"
        config.write_text(
            f"refu:\n  targets:\n    - {{name: a, address: '{device.address}', "
            "min_soc_percent: 12.5, capacity_wh: 1000, alias: garage}\n"
        )
        process = ExporterProcess("--config", str(config))
        try:
            process.wait_until_served()
            result = scrape(f"{process.url}/metrics")
        finally:
            process.stop()
    assert result.value("refu_up", target="a") == 1
    assert result.value("refu_battery_min_state_of_charge_ratio", target="a") == 0.125
    assert result.value("refu_battery_capacity_joules", target="a") == 3.6e6


def test_credentials_in_a_broker_url_are_refused_without_showing_them(tmp_path):
    config = tmp_path / "config.yml"
    url = "mqtt://user:hunter2-secret@127.0.0.1:1883"
    config.write_text(f"powerocean:\n  broker: {{url: '{url}'}}\n  devices: [X]\n")
    status, errors = run_command("check-config", str(config))
    assert status == 2
    assert errors.splitlines() == [
        f"{config}: powerocean.broker.url: must not contain user:password@; "
        "use username and password_file"
    ]


TLS = "tls_server_config: {cert_file: server.pem, key_file: server.pem, "
BROKEN_WEB_CONFIGS = [
    (TLS + "client_auth_type: Sometimes}", "tls_server_config.client_auth_type"),
    (TLS + "client_auth_type: RequireAndVerifyClientCert}", "tls_server_config.client_auth_type"),
    (TLS + "client_ca_file: server.pem}", "tls_server_config.client_ca_file"),
    (TLS + "min_version: TLS9}", "tls_server_config.min_version"),
    (TLS + "min_version: TLS13, max_version: TLS12}", "tls_server_config.min_version"),
    (TLS + "cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}", "tls_server_config.cipher_suites"),
    (TLS + "bogus: 1}", "tls_server_config.bogus"),
    ("tls_server_config: {cert_file: cert.pem, key_file: other-key.pem}", "tls_server_config"),
    ("tls_server_config: {cert_file: key.pem, key_file: cert.pem}", "tls_server_config"),
    (
        "tls_server_config: {cert_file: missing.pem, key_file: server.pem}",
        "tls_server_config.cert_file",
    ),
    ("tls_server_config: {key_file: server.pem}", "tls_server_config.cert_file"),
    (
        "http_server_config: {headers: {X-Frame-Options: always}}",
        "http_server_config.headers.X-Frame-Options",
    ),
    ("http_server_config: {headers: {Server: me}}", "http_server_config.headers.Server"),
    ("basic_auth_users: {prometheus: plain-text-password}", "basic_auth_users.prometheus"),
    ("rate_limit: {interval: soon, burst: 5}", "rate_limit.interval"),
    ("rate_limit: {interval: 1s, burst: -1}", "rate_limit.burst"),
    ("- a list", ""),
]


@pytest.fixture(scope="module")
def web_directory(tmp_path_factory):
    directory = tmp_path_factory.mktemp("web")
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(directory / "server.pem")
    )
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(directory / "key.pem"))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(directory / "other-key.pem"))
    return directory


@pytest.mark.parametrize(("content", "key"), BROKEN_WEB_CONFIGS)
def test_a_broken_web_config_exits_2_with_one_line(web_directory, content, key):
    web = web_directory / "web.yml"
    web.write_text(content + "\n")
    status, errors = run_command(
        "run", "--web.listen-address", "127.0.0.1:1", "--web.config.file", str(web)
    )
    assert status == 2
    assert len(errors.splitlines()) == 1, errors
    assert errors.startswith(f"{web}: {key}" if key else f"{web}: ")
    assert "Traceback" not in errors


def test_a_listen_address_in_use_exits_2_with_one_line():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        status, errors = run_command("run", "--web.listen-address", f"127.0.0.1:{port}")
    assert status == 2
    assert (
        errors
        == f"--web.listen-address '127.0.0.1:{port}': cannot listen: Address already in use\n"
    )


@pytest.mark.parametrize(
    "address", ["no-such-host.invalid:9640", "127.0.0.1:0", ":port", "http://0.0.0.0:9640"]
)
def test_an_unusable_listen_address_exits_2_with_one_line(address):
    status, errors = run_command("run", "--web.listen-address", address)
    assert status == 2
    assert len(errors.splitlines()) == 1 and errors.startswith(f"--web.listen-address '{address}'")


def test_log_level_warn_and_json_lines():
    with LyingModbusServer() as device:
        device.lie = "close"
        process = ExporterProcess("--log.level", "warn", "--log.format", "json")
        try:
            process.wait_until_served()
            scrape(f"{process.url}/probe?target={device.address}")
            process.wait_for_log("connection_closed")
        finally:
            process.stop()
    events = [json.loads(line) for line in process.lines]
    assert {event["level"] for event in events} == {"warn"}, "info lines are left out"
    assert all(set(event) >= {"ts", "level", "logger", "msg"} for event in events)


def test_logfmt_lines_are_one_event_each():
    with LyingModbusServer() as device:
        device.lie = "close"
        process = ExporterProcess("--log.level", "debug")
        try:
            process.wait_until_served()
            scrape(f"{process.url}/probe?target={device.address}")
            line = process.wait_for_log("connection_closed")
        finally:
            process.stop()
    assert (
        line.startswith("ts=")
        and ' level=warn logger=exporter.refu.target msg="scrape of REFU' in line
    )
    assert all(line.startswith("ts=") for line in process.lines)


def test_log_level_warning_is_refused():
    status, errors = run_command("run", "--log.level", "warning")
    assert status == 2 and "'warning' is not one of 'debug', 'info', 'warn', 'error'" in errors

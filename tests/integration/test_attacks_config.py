"""Broken settings as a user meets them, in a real process: check-config and run exit 2 with one
``FILE: KEY: reason`` line each (every case in-process: tests/unit/test_config_errors.py), bad
listen addresses, log levels and formats."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support.exporter_process import ExporterProcess, run_command
from tests.support.lying_modbus import LyingModbusServer
from tests.support.scrape import scrape


def test_check_config_names_file_key_and_reason_and_exits_2(tmp_path):
    """One case as a process; tests/unit/test_config_errors.py has them all, in-process."""
    config = tmp_path / "config.yml"
    config.write_text("refu:\n  targets:\n    - {name: a, address: '10.0.0.1:0'}\n")
    status, errors = run_command("check-config", str(config))
    assert status == 2
    assert errors.splitlines() == [
        f"{config}: refu.targets[0].address: port must be a number 1..65535, got '0'"
    ]


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


def test_a_broken_web_config_exits_2_with_one_line(tmp_path):
    """One case as a process; tests/unit/test_config_errors.py has them all, in-process."""
    web = tmp_path / "web.yml"
    web.write_text("rate_limit: {interval: soon, burst: 5}\n")
    status, errors = run_command(
        "run", "--web.listen-address", "127.0.0.1:1", "--web.config.file", str(web)
    )
    assert status == 2
    assert errors == f"{web}: rate_limit.interval: must be a duration such as 100ms, 1s or 1m\n"


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

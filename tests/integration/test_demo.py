"""``ess-exporter demo`` as a user runs it: a real process, stopped with Ctrl+C (SIGINT)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from exporter.cli import SIMULATED_MODELS
from exporter.simulate import free_port
from exporter.simulate.powerocean import MODELS
from tests.support.scrape import scrape_until

DEMO_TIMEOUT_SECONDS = 30
#: "At once": no connection waited out (an MQTT keepalive is 60 s), with room for a busy machine.
STOP_SECONDS = 5.0


def start_demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "exporter", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def banner(process: subprocess.Popen[str]) -> str:
    """Stdout up to the "Press Ctrl+C" line."""
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
    while not lines or not lines[-1].startswith("Press Ctrl+C"):
        assert time.monotonic() < deadline, f"no banner: {lines}"
        line = process.stdout.readline()
        assert line, f"demo ended early: {lines} {process.communicate()}"
        lines.append(line)
    return "".join(lines)


def test_demo_serves_what_it_prints_and_stops_at_once_on_ctrl_c():
    port = free_port()
    process = start_demo("--web.listen-address", f"127.0.0.1:{port}")
    try:
        printed = banner(process)
        [url] = re.findall(r"Exporter: +(\S+)", printed)
        assert url == f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert b"refu_up" in response.read()
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=DEMO_TIMEOUT_SECONDS)
        took = time.monotonic() - started
    finally:
        process.kill()
    assert process.returncode == 0
    assert stderr == ""
    assert took < STOP_SECONDS, f"took {took:.2f} s to stop"


def test_demo_listens_on_loopback_by_default():
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "[default: 127.0.0.1:9640]" in " ".join(result.stdout.split())  # however it wraps


def test_a_busy_port_gives_one_line_naming_the_option():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "exporter", "demo", "--web.listen-address", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_SECONDS,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: 127.0.0.1:{port} is already in use; choose another address with "
        f"--web.listen-address, e.g. --web.listen-address 127.0.0.1:{port + 1}"
    ]
    assert "Press Ctrl+C" not in result.stdout


def test_the_demo_runs_an_ocean2():
    port = free_port()
    process = start_demo("--web.listen-address", f"127.0.0.1:{port}", "--model", "ocean2")
    try:
        [serial] = re.findall(r"PowerOcean: +(\S+)", banner(process))
        assert serial.startswith("RE11")
        result = scrape_until(
            port,
            lambda r: r.has("powerocean_battery_pack_power_watts", serial=serial),
            timeout=DEMO_TIMEOUT_SECONDS,
        )
    finally:
        process.kill()
        process.communicate()
    assert result.value("powerocean_system_info", serial=serial, model="ocean2") == 1
    assert result.has("powerocean_battery_power_watts", serial=serial)
    assert result.has("powerocean_phase_voltage_volts", serial=serial, phase="C")


def test_the_command_line_offers_every_simulated_model():
    assert set(SIMULATED_MODELS) == set(MODELS)

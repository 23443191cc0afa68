"""Models beyond the Plus, from frames built with the numbering of their public captures."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from exporter.configfile import Config
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from tests.support.exporters import start_exporter
from tests.support.mosquitto import Mosquitto, Subscriber
from tests.support.powerocean_messages import J327_SERIAL, j327_payload
from tests.support.scrape import scrape_until

DAY = 86400
TODAY = int(time.time()) // DAY * DAY


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mosquitto:
        yield mosquitto


def test_a_single_phase_j327(broker):
    config = Config(
        powerocean=PowerOceanConfig(
            devices={J327_SERIAL: "garage"},
            broker=BrokerConfig(url=broker.url, ca_file=broker.ca_file),
        )
    )
    exporter = start_exporter(config)
    try:
        connected = scrape_until(exporter.port, lambda r: r.value("powerocean_mqtt_connected") == 1)
        assert connected.value("powerocean_mqtt_connected") == 1  # subscribed: nothing is lost
        with Subscriber(broker) as device:
            device.publish(f"/app/device/property/{J327_SERIAL}", j327_payload(TODAY))
            r = scrape_until(exporter.port, lambda r: r.has("powerocean_energy_today_joules"))
    finally:
        exporter.stop()
    labels = {"serial": J327_SERIAL}
    assert r.value("powerocean_system_info", **labels, name="garage", model="single_phase") == 1
    assert r.value("powerocean_phase_voltage_volts", **labels, phase="A") == 244.75
    phases = {s.labels.get("phase") for s in r.samples if s.name.startswith("powerocean_phase_")}
    assert phases == {"A"}  # B and C came as empty submessages: no such phase, not 0 V
    assert r.value("powerocean_ieee2030_5_connection_state_code", **labels) == 1
    assert r.value("powerocean_ieee2030_5_control_state_code", **labels) == 1
    today = r.value("powerocean_energy_today_joules", **labels, energy_type="1")
    assert today == (380 + 1960) * 3600
    assert r.value("powerocean_decode_errors_total", reason="unknown_command") == 3
    assert r.value("powerocean_decode_errors_total", reason="bad_message") == 0


def test_decode_names_every_field_of_a_j327s_96_8_and_254_32(tmp_path):
    file = tmp_path / "j327.bin"
    file.write_bytes(j327_payload(TODAY))
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(file)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    frames = {frame["command"]: frame for frame in json.loads(run.stdout)["frames"]}
    change = frames["96/8"]
    assert change["fields"] == {"ieee20305_connect_stat": 1, "ieee20305_ctrl_stat": 1}
    assert "unknown_fields" not in change
    statistics = frames["254/32"]
    assert statistics["message"] == "ENERGY_TOTAL_REPORT"
    [(name, entry)] = statistics["entries"].items()
    assert name == "energy_type=1"
    assert entry["fields"]["watth"] == [0] * 7 + [380, 1960]
    assert entry["fields"]["timestamp"] == TODAY
    assert "unknown_fields" not in statistics and "unknown_fields" not in entry
    for command in ("53/14", "241/36", "96/26"):
        assert frames[command]["message"] == "unknown"

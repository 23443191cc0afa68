"""The ``sunspec`` section: targets read, and every problem named with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import ConfigError
from exporter.configfile import load_config
from exporter.modbus.config import ModbusTargetConfig
from exporter.sunspec.config import SunSpecConfig


def load(tmp_path: Path, text: str):
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(path), path


def test_targets_are_read_with_default_port_and_unit(tmp_path):
    config, _ = load(
        tmp_path,
        "sunspec:\n  timeout_seconds: 5\n  targets:\n"
        "    - {name: refustore-1, address: 192.0.2.20}\n"
        "    - {name: storage, address: '192.0.2.21:1502', unit_id: 3}\n",
    )
    assert config.sunspec == SunSpecConfig(
        timeout_seconds=5.0,
        targets=(
            ModbusTargetConfig("refustore-1", "192.0.2.20", 502, 1),
            ModbusTargetConfig("storage", "192.0.2.21", 1502, 3),
        ),
    )


def test_no_section_is_no_targets(tmp_path):
    config, _ = load(tmp_path, "refu: {}\n")
    assert config.sunspec == SunSpecConfig()


@pytest.mark.parametrize(
    ("entry", "key", "reason"),
    [
        ("{name: a, address: 'x:0'}", "sunspec.targets[0].address", "port must be a number"),
        ("{name: a, address: h, unit_id: 300}", "sunspec.targets[0].unit_id", "0..255, got 300"),
        ("{name: a, address: h, alias: x}", "sunspec.targets[0].alias", "unknown key"),
        ("{address: h}", "sunspec.targets[0].name", "must be non-empty text"),
    ],
)
def test_a_broken_target_names_its_key(tmp_path, entry, key, reason):
    path = tmp_path / "config.yml"
    path.write_text(f"sunspec:\n  targets:\n    - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{path}: {key}: ") and reason in problem


def test_two_targets_of_one_name_are_refused(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text(
        "sunspec:\n  targets: [{name: a, address: h1}, {name: a, address: h2}]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"sunspec\.targets: name 'a' is used twice"):
        load_config(path)

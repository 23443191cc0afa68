"""``ess-exporter metrics``, ``docs/metrics.md`` and the release basics (version, licence,
changelog, build info)."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import subprocess
import sys

import pytest

from exporter import __version__
from exporter.app import BRANCH_ENV, REVISION_ENV
from exporter.configfile import Config
from exporter.metrics import HEALTH_SEED_ID
from exporter.reference import HEALTH_METRICS, REGENERATE, markdown, metric_rows
from tests.support.exporters import start_exporter
from tests.support.paths import PROJECT_ROOT
from tests.support.scrape import scrape

ROOT = PROJECT_ROOT
DOCS = ROOT / "docs" / "metrics.md"
REQUIRED_KEYS = {"device", "source", "metric", "kind", "unit", "scale", "help"}


def ess_exporter(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return json.loads(ess_exporter("metrics", "--format", "json"))


def test_docs_metrics_md_is_the_current_reference():
    assert DOCS.read_text(encoding="utf-8") == markdown(metric_rows()), (
        f"docs/metrics.md is stale; regenerate it with: {REGENERATE}"
    )


def test_the_markdown_command_prints_exactly_docs_metrics_md():
    assert ess_exporter("metrics") == markdown(metric_rows())


def test_every_row_has_the_contract_keys(rows):
    for row in rows:
        assert row.keys() >= REQUIRED_KEYS, row["metric"]
        assert row["device"] in ("refu", "powerocean", "sunspec", "exporter")
        assert row["kind"] in ("gauge", "counter", "enum", "bitfield", "info", "array")
        assert isinstance(row["scale"], float), row["metric"]


def test_health_metrics_are_listed_with_their_labels(rows):
    health = {row["metric"]: row for row in rows if row["source"] == HEALTH_SEED_ID}
    assert list(health) == [metric.name for metric in HEALTH_METRICS]
    assert health["refu_up"]["label_names"] == ["target"]
    assert health["refu_scrape_errors_total"]["kind"] == "counter"
    assert health["refu_scrape_errors_total"]["label_names"] == ["target", "reason"]
    assert health["powerocean_last_message_timestamp_seconds"]["unit"] == "seconds"
    assert health["powerocean_mqtt_connected"]["label_names"] == []
    assert health["ess_exporter_build_info"]["device"] == "exporter"


def test_label_names_include_what_expansion_adds(rows):
    by_source = {row["source"]: row for row in rows}
    assert by_source["refu.SystemState"]["label_names"] == ["target", "state"]
    assert by_source["refu.SystemError1"]["label_names"] == ["target", "bit", "alarm"]
    assert by_source["refu.CurrentL2"]["label_names"] == ["target", "phase"]
    assert by_source["refu.CurrentL2"]["labels"] == {"phase": "L2"}
    assert by_source["statusReportBattery.bpPwr"]["label_names"] == ["serial", "pack"]
    assert by_source["103.Evt1"]["label_names"] == ["target", "word", "bit", "alarm"]
    assert by_source["160.module.DCA"]["label_names"] == ["target", "input"]


def test_markdown_lists_enum_states_and_alarm_bits():
    text = markdown(metric_rows())
    states = text.split("#### `refu_system_state`\n", 1)[1].split("####", 1)[0]
    assert '- `state="Fault"` (raw 5)' in states
    bits = text.split("#### `refu_communication_status`\n", 1)[1].split("####", 1)[0]
    assert '- `bit="3", alarm="CAN Timeout"`' in bits
    assert re.search(r"^## The exporter itself$", text, re.MULTILINE)
    assert "| `powerocean_mqtt_connected` | gauge |  |  | 1 | exporter |" in text


def test_the_version_is_written_once():
    assert importlib.metadata.version("ess-exporter") == __version__
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)


def test_licence_and_changelog_are_there():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog
    assert re.search(rf"^## \[(Unreleased|{re.escape(__version__)})\]", changelog, re.MULTILINE)


def test_build_info_names_version_revision_branch_and_python(monkeypatch):
    exporter = start_exporter(Config())
    try:
        url = f"http://127.0.0.1:{exporter.port}/metrics"
        unknown = scrape(url)
        monkeypatch.setenv(REVISION_ENV, "0123abc")
        monkeypatch.setenv(BRANCH_ENV, "main")
        built = scrape(url)
    finally:
        exporter.stop()
    python = platform.python_version()
    assert unknown.value("ess_exporter_build_info", version=__version__, revision="unknown",
                         branch="unknown", python_version=python) == 1  # fmt: skip
    assert built.value("ess_exporter_build_info", version=__version__, revision="0123abc",
                       branch="main", python_version=python) == 1  # fmt: skip

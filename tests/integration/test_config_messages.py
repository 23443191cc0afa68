"""What the user reads when a config is wrong or empty: file names, "did you mean", a warning."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from exporter.app import load_config
from exporter.config import ConfigError
from exporter.refu.channels import load_refu_mapping

REFU_SETTINGS = load_refu_mapping().settings
NOTHING_TO_EXPORT = "no REFU targets and no PowerOcean system configured"


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, REFU_SETTINGS)
    return raised.value.problems


def test_a_yaml_syntax_error_names_the_file_line_and_column_on_one_line(tmp_path):
    [problem] = problems(tmp_path, "refu:\n  targets: [\n")
    path = tmp_path / "config.yml"
    assert problem.startswith(f"{path}: not valid YAML: ")
    assert f'in "{path}", line 3, column 1' in problem
    assert "<unicode string>" not in problem


def test_a_misspelt_key_gets_a_suggestion(tmp_path):
    found = problems(
        tmp_path,
        "refu:\n  timeout_secnds: 3\n  targets:\n    - {name: a, address: h, alais: x}\n"
        "powerocan: {}\n",
    )
    path = tmp_path / "config.yml"
    assert found == [
        f"{path}: powerocan: unknown key, did you mean 'powerocean'?",
        f"{path}: refu.timeout_secnds: unknown key, did you mean 'timeout_seconds'?",
        f"{path}: refu.targets[0].alais: unknown key, did you mean 'alias'?",
    ]


def test_an_unknown_key_like_nothing_gets_no_suggestion(tmp_path):
    [problem] = problems(tmp_path, "grafana: {}\n")
    assert problem == f"{tmp_path / 'config.yml'}: grafana: unknown key"


def stderr_until_serving(process: subprocess.Popen[str]) -> str:
    """Stderr of ``run`` up to its "listening" line."""
    deadline = time.monotonic() + 20
    lines: list[str] = []
    while not any("listening on port" in line for line in lines):
        assert time.monotonic() < deadline and process.poll() is None, lines
        lines.append(process.stderr.readline())
    return "".join(lines)


def test_run_warns_when_there_is_nothing_to_export(run_exporter, tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("# nothing configured yet\n", encoding="utf-8")
    with_empty_config, _ = run_exporter("--config", str(empty))
    without_config, _ = run_exporter()
    assert f'level=warn logger=exporter msg="{empty}: {NOTHING_TO_EXPORT}' in stderr_until_serving(
        with_empty_config
    )
    assert f"no --config: {NOTHING_TO_EXPORT}" in stderr_until_serving(without_config)


def test_run_does_not_warn_with_a_device(run_exporter, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("refu:\n  targets:\n    - {name: a, address: '127.0.0.1:1'}\n")
    process, _ = run_exporter("--config", str(config))
    assert NOTHING_TO_EXPORT not in stderr_until_serving(process)

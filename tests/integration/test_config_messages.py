"""What ``run`` says about an empty config: a warning, and none when a device is configured;
about a config it cannot read: one line, and exit 2.

What it says about a wrong one is in tests/unit/test_config_errors.py (and, as a process, in
test_attacks_config.py)."""

from __future__ import annotations

import subprocess
import time

from tests.support.exporter_process import run_command

NOTHING_TO_EXPORT = "no REFU targets and no PowerOcean system configured"


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


def test_run_exits_2_with_one_line_when_the_config_cannot_be_read(tmp_path):
    status, errors = run_command(
        "run", "--web.listen-address", "127.0.0.1:1", "--config", str(tmp_path)
    )
    assert (status, errors) == (2, f"{tmp_path}: cannot read: Is a directory\n")

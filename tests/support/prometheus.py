"""A real Prometheus server (the Debian package's) on loopback, and promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from exporter.simulate import free_port
from tests.support.polling import until
from tests.support.processes import stop_process

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert Path(PROMTOOL).exists(), "promtool (Debian package prometheus) is needed"
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )


class PrometheusServer:
    """Prometheus with ``config`` (a prometheus.yml as a dict), its files in ``directory``;
    promtool checks the configuration before it starts."""

    def __init__(self, config: dict[str, Any], directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.config_file = directory / "prometheus.yml"
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        self.log = directory / "prometheus.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start it; returns once it answers queries."""
        assert Path(PROMETHEUS).exists(), "prometheus (Debian package prometheus) is needed"
        checked = promtool("check", "config", str(self.config_file))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        self.port = free_port()
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={self.config_file}",
                    f"--storage.tsdb.path={self.directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        assert until(self._ready, timeout), f"Prometheus did not start:\n{self.log_tail()}"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, 10)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def api(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # a bad query answers 400 with a JSON error
            return json.load(exc)

    def series(self, expr: str) -> list[dict[str, Any]]:
        """The result of an instant query; fails the test when the query fails."""
        answer = self.api("query", query=expr)
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        return answer["data"]["result"]

    def _ready(self) -> bool:
        assert self._process is not None and self._process.poll() is None, (
            f"Prometheus exited:\n{self.log_tail()}"
        )
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

"""``ess-exporter run`` as a child process, its log lines collected as they come."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from exporter.simulate import free_port
from tests.support.processes import stop_process


class ExporterProcess:
    """The exporter serving on a free loopback port; ``lines`` holds its stderr so far."""

    def __init__(self, *args: str) -> None:
        self._process, self.port = start_run(*args)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def _read(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line)

    def wait_until_served(self, context: ssl.SSLContext | None = None, timeout: float = 15) -> None:
        """Until /-/healthy answers (over TLS with ``context``)."""
        url = f"{self.url}/-/healthy".replace("http:", "https:" if context else "http:")
        wait_until_served(url, context, timeout, alive=self.running_or_fail)

    def running_or_fail(self) -> None:
        assert self._process.poll() is None, f"the exporter exited: {self.log}"

    def wait_for_log(self, text: str, timeout: float = 15) -> str:
        """The first log line containing ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line with {text!r} in:\n{self.log}")

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process ends at once, as in a crash."""
        self._process.kill()
        self._process.wait()
        self._reader.join(timeout=5)

    def stop(self) -> int:
        stop_process(self._process)
        self._reader.join(timeout=5)
        return self._process.returncode


def start_run(*args: str) -> tuple[subprocess.Popen, int]:
    """``ess-exporter run ARGS`` on a free loopback port: the process and its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter",
            "run",
            "--web.listen-address",
            f"127.0.0.1:{port}",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, port


def wait_until_served(
    url: str,
    context: ssl.SSLContext | None = None,
    timeout: float = 15,
    alive: Callable[[], None] = lambda: None,
) -> None:
    """Until ``url`` answers at all; ``alive`` raises when waiting longer is pointless."""
    deadline = time.monotonic() + timeout
    while True:
        alive()
        try:
            urllib.request.urlopen(url, timeout=1, context=context).read()
            return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except OSError:
            assert time.monotonic() < deadline, f"{url} does not answer"
            time.sleep(0.1)


def run_command(*args: str, cwd: Path | None = None, timeout: float = 30) -> tuple[int, str]:
    """Exit status and stderr of ``ess-exporter ARGS`` (a command that ends by itself)."""
    result = subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    return result.returncode, result.stderr

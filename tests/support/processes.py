"""Stopping the servers the tests start as processes."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL when it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

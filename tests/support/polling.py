"""Waiting for something another thread or process does, with a generous deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``condition`` held within ``timeout`` seconds, asked every 10 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

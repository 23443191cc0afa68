"""The exporter's asyncio event loop, on a background thread of its own: the HTTP server and
every device read run on it. Synchronous callers, such as start-up and tests, hand it
coroutines with ``run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class EventLoopThread:
    def __init__(self, name: str = "asyncio") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for its result, at most ``timeout`` seconds
        (TimeoutError) when the coroutine does not bound its own time."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        """Cancel what still runs on the loop (a read in flight), then end the loop: within
        10 s, even if a task will not end. A loop that has ended already stays so."""
        if self._thread.is_alive():
            with contextlib.suppress(TimeoutError):
                self.run(_cancel_the_others(), timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)


async def _cancel_the_others() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)

"""An MQTT broker inside the process (amqtt), so the demo needs no system service."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from exporter.eventloop import EventLoopThread

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """Anonymous MQTT on ``host:port``, served from a background thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._loop = EventLoopThread("mqtt-broker")
        self._broker: Any = None  # an amqtt Broker once started (amqtt is optional)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        try:
            from amqtt.broker import Broker
        except ImportError:
            raise SystemExit(
                "the demo's MQTT broker needs amqtt: pip install 'ess-exporter[demo]'"
            ) from None
        # amqtt is chatty at INFO about every client; the demo has its own output.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

        async def serve() -> None:
            # Made on its own loop: amqtt's constructor takes the current thread's loop.
            self._broker = Broker(config, loop=asyncio.get_running_loop())
            await self._broker.start()

        self._loop.run(serve(), timeout=10)

    def stop(self) -> None:
        if self._broker is not None:
            self._loop.run(self._shutdown(), timeout=10)
        self._loop.stop()

    async def _shutdown(self) -> None:
        """The broker's own shutdown, without its 5 s wait.

        amqtt 0.12 waits for its broadcast loop on a future that loop never watches, gives up
        after 5 s and logs the cancellation as an error. Cancelling the loop first lets the
        shutdown close the listeners and sessions at once; that cancellation is expected, so
        amqtt's report of it is not shown.
        """
        assert self._broker is not None
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)
        broadcast = self._broker._broadcast_task
        if broadcast is not None:
            broadcast.cancel()
            await asyncio.gather(broadcast, return_exceptions=True)
        await self._broker.shutdown()

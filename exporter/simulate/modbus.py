"""What the simulated Modbus devices share: serving a pymodbus device on a TCP port."""

from __future__ import annotations

from typing import Self

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimDevice

from exporter.eventloop import EventLoopThread


class ModbusSimulator:
    """A simulated device (``device()``) served over Modbus TCP on ``host``:``port``: on a
    thread of its own (``start``, or ``with``) or on the caller's loop (``listen``)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        #: The loop thread and the server of ``start``, while running.
        self._running: tuple[EventLoopThread, ModbusTcpServer] | None = None

    def device(self) -> SimDevice:
        """The pymodbus device to serve."""
        raise NotImplementedError

    def _server(self) -> ModbusTcpServer:
        """The Modbus TCP server of the device, not yet listening."""
        return ModbusTcpServer(self.device(), address=(self.host, self.port))

    async def listen(self) -> ModbusTcpServer:
        """Start serving on the running loop; returns the server once it listens."""
        server = self._server()
        await server.serve_forever(background=True)
        return server

    def start(self) -> None:
        """Serve on a background thread; returns once the port accepts connections."""
        loop = EventLoopThread(f"{type(self).__name__}")
        try:
            self._running = loop, loop.run(self.listen())
        except BaseException:
            loop.stop()
            raise

    def stop(self) -> None:
        """Shut the server down and end its thread; calling it again does nothing."""
        running, self._running = self._running, None
        if running is not None:
            loop, server = running
            loop.run(server.shutdown())
            loop.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

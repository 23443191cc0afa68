"""A Service-like front for exporter replicas: a TCP proxy on loopback.

It stands in for a Kubernetes Service with ``sessionAffinity: ClientIP`` in front of the
exporter's replicas, for one client (one Prometheus): every connection goes to the client's
replica while that one accepts connections, and to the next replica that does when it
stops, as kube-proxy does once the stopped pod has left the Service's endpoints. Two
Prometheus shards are two clients: each gets its own front, with its own first replica.

``Front`` runs in this process; ``python -m tests.support.front PORT... [--first N]`` runs
one as a process of its own (it prints its port, then serves until stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from exporter.eventloop import EventLoopThread

HOST = "127.0.0.1"
#: Bytes passed on per read.
CHUNK = 65536


class Front:
    """Listens on a free loopback port; ``replicas`` are the backends' ports, tried in
    order from ``first``. ``connections`` counts the connections each replica was given."""

    def __init__(self, replicas: Sequence[int], first: int = 0) -> None:
        self._order = [*replicas[first:], *replicas[:first]]
        self.connections = dict.fromkeys(replicas, 0)
        self._loop: EventLoopThread | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> None:
        self._loop = EventLoopThread("front")
        self._server = self._loop.run(asyncio.start_server(self._handle, HOST, 0))
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop, server, self._loop, self._server = self._loop, self._server, None, None
        if loop is not None and server is not None:
            server.close()
            loop.stop()

    async def _handle(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        backend = await self._connect()
        if backend is None:
            client_out.close()
            return
        backend_in, backend_out = backend
        await asyncio.gather(_pipe(client_in, backend_out), _pipe(backend_in, client_out))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the first replica that takes it."""
        for port in self._order:
            with contextlib.suppress(OSError):
                connection = await asyncio.open_connection(HOST, port)
                self.connections[port] += 1
                return connection
        return None

    def __enter__(self) -> Front:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Pass bytes on until either side closes, then close the sink: a replica that goes
    away closes its clients' connections, as the kernel does for a killed process."""
    with contextlib.suppress(OSError):
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
    sink.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("replicas", type=int, nargs="+", help="the replicas' ports")
    parser.add_argument("--first", type=int, default=0, help="index of the first replica")
    args = parser.parse_args()
    with Front(args.replicas, args.first) as front:
        print(front.port, flush=True)
        sys.stdin.read()  # until the parent closes it (or ends this process)


if __name__ == "__main__":
    main()

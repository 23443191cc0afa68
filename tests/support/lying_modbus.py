"""A Modbus TCP device that lies, on a raw socket: not a test module.

It answers every read with zeros, as an honest device would, unless ``lie`` says otherwise:

- ``wrong_function``: the other read function's answer (4 for 3, 3 for 4, 2 for 1, 1 for 2)
- ``wrong_transaction`` / ``wrong_unit``: the header names another transaction or unit
- ``wrong_byte_count``: one register (or bit byte) fewer than asked for
- ``wrong_protocol``: a header whose protocol id is not 0 (Modbus)
- ``wrong_length``: a header whose length field is longer than any Modbus answer
- ``not_modbus``: an HTTP error page, as a web server on the port would send
- ``endless_chain``: the SunSpec marker at register 40000, and zeros after it: a chain of
  empty models that never ends
- ``close``: closes the connection instead of answering
- ``stall``: keeps the connection open and never answers
- ``exception:N``: Modbus exception code N
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

_HEADER = struct.Struct(">HHHB")
_OTHER_READ = {1: 2, 2: 1, 3: 4, 4: 3}


class LyingModbusServer:
    def __init__(self) -> None:
        self.lie = "none"
        self.requests = 0
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Connection)
        self._server.daemon_threads = True
        self._server.device = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LyingModbusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve(self, connection: socket.socket) -> None:
        """Answer the requests of one connection until it ends or the lie ends it."""
        while (request := _receive(connection, 12)) is not None:
            self.requests += 1
            answer = self._answer(request)
            if answer is None:
                return
            if answer:
                connection.sendall(answer)

    def _answer(self, request: bytes) -> bytes | None:
        transaction, _, _, unit = _HEADER.unpack(request[:7])
        function, register, count = struct.unpack(">BHH", request[7:])
        lie = self.lie
        size = 2 * count if function in (3, 4) else (count + 7) // 8
        pdu = bytes([function, size]) + bytes(size)
        if lie == "endless_chain" and (register, count) == (40000, 2):
            pdu = bytes([function, 4]) + b"SunS"
        if lie == "close":
            return None
        if lie == "stall":
            return b""
        if lie == "not_modbus":
            return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
        if lie.startswith("exception:"):
            pdu = bytes([function | 0x80, int(lie.split(":")[1])])
        elif lie == "wrong_function":
            pdu = bytes([_OTHER_READ[function], size]) + bytes(size)
        elif lie == "wrong_byte_count":
            short = size - 2 if function in (3, 4) else size - 1
            pdu = bytes([function, short]) + bytes(short)
        transaction += lie == "wrong_transaction"
        unit = (unit + (lie == "wrong_unit")) % 256
        protocol = int(lie == "wrong_protocol")
        length = 1000 if lie == "wrong_length" else len(pdu) + 1
        return _HEADER.pack(transaction, protocol, length, unit) + pdu


class _Connection(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.device.serve(self.request)  # type: ignore[attr-defined]


def _receive(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = connection.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data

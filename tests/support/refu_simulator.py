"""The REFU simulator as tests use it: values pinned or frozen, requests watched, reads refused."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import ReadWriteMultipleRegistersRequest
from pymodbus.server import ModbusTcpServer

from exporter.simulate.refu import RefuSimulator, encode, raw_value


class _Refused(ModbusPDU):
    """A request the device does not serve: answered with ``answer``, changing nothing."""

    answer = ExcCodes.ILLEGAL_FUNCTION

    def decode(self, data: bytes) -> None:
        # The layout of an unknown request is unknown; most start with address and count.
        if len(data) >= 4:
            self.address, self.count = struct.unpack(">HH", data[:4])

    async def datastore_update(self, context: object, device_id: int) -> ModbusPDU:
        return ExceptionResponse(self.function_code, self.answer)


#: Without these the server cannot decode a function code pymodbus does not know: it would
#: answer with function code 0 and never show the request to ``trace_pdu``.
_UNKNOWN_FUNCTIONS: list[type[ModbusPDU]] = [
    type(f"_Refused{code}", (_Refused,), {"function_code": code})
    for code in range(1, 0x80)
    if code not in DecodePDU.pdu_table
]


def _span(request: ModbusPDU) -> tuple[int, int]:
    """First address and number of registers or bits a request names."""
    if isinstance(request, ReadWriteMultipleRegistersRequest):
        return request.write_address, request.write_count
    return request.address, request.count or len(request.bits) or 1


class ControlledRefuSimulator(RefuSimulator):
    """A ``RefuSimulator`` a test controls and watches.

    ``refuse`` holds (function, first address, last address) ranges: a read touching one
    answers ILLEGAL_ADDRESS, like a device rejecting a read that spans an unused register.
    A function code pymodbus does not know is recorded and refused with ILLEGAL_FUNCTION.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5020,
        *,
        refuse: Sequence[tuple[int, int, int]] = (),
        **options: Any,
    ) -> None:
        super().__init__(host, port, **options)
        self.refuse = tuple(refuse)
        #: (function code, address, count) of every request received, refused ones included.
        self.requests: list[tuple[int, int, int]] = []
        #: Client connections open now, and the most that were ever open at once.
        self.connections = 0
        self.max_connections = 0
        self._lock = threading.Lock()
        self._pins: dict[str, float] = {}
        self._frozen_at: float | None = None

    def pin(self, seed_id: str, value: float) -> None:
        """Fix a channel's exported value until ``unpin``; raises if the register cannot hold it."""
        channel = self.channels.get(seed_id)
        if channel is None:
            raise KeyError(f"no register channel {seed_id!r}")
        encode(channel.location, raw_value(channel, value))
        with self._lock:
            self._pins[seed_id] = value

    def unpin(self, seed_id: str) -> None:
        with self._lock:
            self._pins.pop(seed_id, None)

    def freeze(self, at: float | None) -> None:
        """Stop the model's clock at ``at`` (None lets it run again)."""
        with self._lock:
            self._frozen_at = at

    def values(self, at: float) -> dict[str, float]:
        with self._lock:
            frozen_at, pins = self._frozen_at, dict(self._pins)
        return {**super().values(at if frozen_at is None else frozen_at), **pins}

    def expected(self) -> dict[str, float | int]:
        """What every register channel should read as now: its value, rounded to the
        register's resolution (the raw number times the scale)."""
        result: dict[str, float | int] = {}
        for seed_id, value in self.values(time.time()).items():
            channel = self.channels[seed_id]
            raw = raw_value(channel, value)
            result[seed_id] = raw if channel.scale == 1 else raw * channel.scale
        return result

    def _server(self) -> ModbusTcpServer:
        return ModbusTcpServer(
            self.device(),
            address=(self.host, self.port),
            trace_pdu=self._trace_pdu,
            trace_connect=self._trace_connect,
            custom_pdu=_UNKNOWN_FUNCTIONS,
        )

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        """Record each request; swap a read of a refused range for a refusal."""
        if sending:
            return pdu
        function, address, count = pdu.function_code, *_span(pdu)
        self.requests.append((function, address, count))
        last = address + count - 1
        if not any(
            code == function and first <= last and address <= final
            for code, first, final in self.refuse
        ):
            return pdu
        refused = _Refused(dev_id=pdu.dev_id, transaction_id=pdu.transaction_id)
        refused.function_code, refused.answer = function, ExcCodes.ILLEGAL_ADDRESS
        return refused

    def _trace_connect(self, connected: bool) -> None:
        self.connections += 1 if connected else -1
        self.max_connections = max(self.max_connections, self.connections)

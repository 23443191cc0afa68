"""A read-only Modbus TCP connection to one device.

``ModbusReader`` builds only the four read requests (function codes 1-4), so no code path
can send a write. Every answer is checked against its request before a value is used:
transaction id, protocol id, unit, function code and byte count. A device that answers
something else, or closes the connection mid-request, raises ``DeviceError`` at once; the
caller then drops the connection (its state is unknown) and bounds every call with a timeout.

pymodbus' client is not used here: in 3.16 it skips answers with another transaction id or
unit (the read then waits out the timeout, with no reason given), accepts an answer of the
other read function code as data, and keeps waiting after the device closed the connection.
"""

from __future__ import annotations

import asyncio
import struct

#: Modbus TCP header: transaction id, protocol id, length (unit + PDU), unit.
_MBAP = struct.Struct(">HHHB")
#: Longest PDU a Modbus TCP frame holds (260-byte ADU minus the 7-byte header), +1 for the unit.
_MAX_LENGTH = 254
#: Exception codes that say "this request can never succeed" (illegal function, address,
#: value); the others (device failure, busy, gateway trouble) may pass.
PERMANENT_EXCEPTIONS = frozenset({1, 2, 3})
#: Reason labels of the transient exception codes; any other code counts as a device failure.
_TRANSIENT_EXCEPTIONS = {
    5: "device_busy",
    6: "device_busy",
    10: "gateway_failed",
    11: "gateway_failed",
}

#: Every reason a read can fail for (besides the caller's own ``timeout``).
READ_FAILURES = (
    "connect_failed",
    "connection_closed",
    "invalid_response",
    "wrong_transaction",
    "wrong_unit",
    "wrong_function",
    "wrong_byte_count",
    "device_failure",
    "device_busy",
    "gateway_failed",
)


class DeviceError(Exception):
    """The device could not be read; ``reason`` is a short label for metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ExceptionAnswer(Exception):
    """The device answered a read with a Modbus exception code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Modbus exception code {code}")
        self.code = code

    @property
    def permanent(self) -> bool:
        """True for illegal function/address/value: the read plan should learn a hole."""
        return self.code in PERMANENT_EXCEPTIONS

    def as_error(self) -> DeviceError:
        """The scrape failure a transient exception answer stands for."""
        return DeviceError(_TRANSIENT_EXCEPTIONS.get(self.code, "device_failure"), str(self))


class ModbusReader:
    """One TCP connection to a Modbus device; callers bound every call with a timeout."""

    def __init__(self, host: str, port: int, unit_id: int) -> None:
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._transaction = 0

    async def connect(self) -> None:
        if self._streams is not None:
            return
        try:
            self._streams = await asyncio.open_connection(self.host, self.port)
        except (OSError, UnicodeError) as exc:  # refused, unreachable, unresolvable
            raise DeviceError(
                "connect_failed", getattr(exc, "strerror", None) or str(exc)
            ) from None

    async def read(self, function: int, register: int, count: int) -> list[int]:
        """``count`` registers (or bits, as 0/1) from ``register``; raises ExceptionAnswer."""
        if function not in (1, 2, 3, 4):
            raise ValueError(f"not a read function code: {function}")
        if self._streams is None:
            raise DeviceError("connection_closed", "not connected")
        reader, writer = self._streams
        self._transaction = self._transaction % 0xFFFF + 1
        request = _MBAP.pack(self._transaction, 0, 6, self.unit_id) + struct.pack(
            ">BHH", function, register, count
        )
        try:
            writer.write(request)
            await writer.drain()
            header = await reader.readexactly(_MBAP.size)
            transaction, protocol, length, unit = _MBAP.unpack(header)
            self._check_header(transaction, protocol, length, unit)
            pdu = await reader.readexactly(length - 1)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise DeviceError(
                "connection_closed", f"the device closed the connection ({exc})"
            ) from None
        return _decode_pdu(pdu, function, count)

    def _check_header(self, transaction: int, protocol: int, length: int, unit: int) -> None:
        if protocol != 0 or not 3 <= length <= _MAX_LENGTH:
            raise DeviceError(
                "invalid_response",
                f"not a Modbus TCP answer (protocol {protocol}, length {length})",
            )
        if transaction != self._transaction:
            raise DeviceError(
                "wrong_transaction", f"asked {self._transaction}, answered {transaction}"
            )
        if unit != self.unit_id:
            raise DeviceError("wrong_unit", f"asked unit {self.unit_id}, answered {unit}")

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _decode_pdu(pdu: bytes, function: int, count: int) -> list[int]:
    """The values of an answer to read ``function`` of ``count`` items; raises on a mismatch."""
    answered = pdu[0]
    if answered == function | 0x80:
        raise ExceptionAnswer(pdu[1])
    if answered != function:
        raise DeviceError("wrong_function", f"asked function {function}, answered {answered}")
    expected = 2 * count if function in (3, 4) else (count + 7) // 8
    if pdu[1] != expected or len(pdu) != expected + 2:
        raise DeviceError(
            "wrong_byte_count", f"asked {expected} bytes, answered {pdu[1]} in {len(pdu) - 2}"
        )
    data = pdu[2:]
    if function in (3, 4):
        return list(struct.unpack(f">{count}H", data))
    return [(data[i // 8] >> (i % 8)) & 1 for i in range(count)]

"""A read-only Modbus TCP connection to one device.

``ModbusReader`` wraps pymodbus' asyncio client and exposes reads only: the four read
function codes (1-4) are the only pymodbus calls it holds, so no code path can send a write.
"""

from __future__ import annotations

import logging

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

log = logging.getLogger(__name__)


class DeviceError(Exception):
    """The device could not be read; ``reason`` is a short label for metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class ExceptionAnswer(Exception):
    """The device answered a read with a Modbus exception (e.g. illegal address)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"Modbus exception code {code}")
        self.code = code


class ModbusReader:
    """One TCP connection to a Modbus device; callers bound every call with a timeout."""

    def __init__(self, host: str, port: int, unit_id: int, timeout: float) -> None:
        self.unit_id = unit_id
        # retries=0 and reconnect_delay=0: the scrape decides when to try again.
        self._client = AsyncModbusTcpClient(
            host, port=port, timeout=timeout, retries=0, reconnect_delay=0, name=f"{host}:{port}"
        )
        self._reads = {
            1: self._client.read_coils,
            2: self._client.read_discrete_inputs,
            3: self._client.read_holding_registers,
            4: self._client.read_input_registers,
        }

    @property
    def connected(self) -> bool:
        return self._client.connected

    async def connect(self) -> None:
        if self._client.connected:
            return
        try:
            ok = await self._client.connect()
        except (OSError, ModbusException) as exc:
            raise DeviceError("connect_failed", str(exc)) from None
        if not ok:
            raise DeviceError("connect_failed", f"cannot connect to {self._client}")

    async def read(self, function: int, address: int, count: int) -> list[int]:
        """``count`` registers (or bits, as 0/1) from ``address``; raises ExceptionAnswer."""
        read = self._reads[function]
        try:
            response = await read(address, count=count, device_id=self.unit_id)
        except ModbusException as exc:
            raise DeviceError("invalid_response", str(exc)) from None
        if response.isError():
            raise ExceptionAnswer(getattr(response, "exception_code", 0))
        values = response.registers if function in (3, 4) else [int(b) for b in response.bits]
        if len(values) < count:
            raise DeviceError(
                "invalid_response", f"asked for {count} values at {address:#x}, got {len(values)}"
            )
        return values[:count]

    def close(self) -> None:
        self._client.close()

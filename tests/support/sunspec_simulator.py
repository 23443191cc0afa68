"""The SunSpec simulator as tests use it: values pinned or frozen, what it sends decoded
with ``struct`` (never with the exporter's code), requests watched, long reads refused."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer

from exporter.simulate.sunspec import PACKING, SimulatedPoint, SunSpecSimulator, scale_factor


class ControlledSunSpecSimulator(SunSpecSimulator):
    """A ``SunSpecSimulator`` a test controls and watches. A read of more than ``max_read``
    registers is refused with ILLEGAL_VALUE, as some devices do."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 5021, *, max_read: int = 125, **options: Any
    ) -> None:
        super().__init__(host, port, **options)
        self.max_read = max_read
        #: (function code, register, count) of every request received.
        self.requests: list[tuple[int, int, int]] = []
        self._lock = threading.Lock()
        self._pins: dict[tuple[int, str], tuple[Any, bool]] = {}
        self._frozen_at: float | None = None

    def pin(self, model_id: int, point: str, value: Any, *, raw: bool = False) -> None:
        """Fix a point's value; ``raw`` fixes the number sent instead (so that a changed scale
        factor changes the value)."""
        with self._lock:
            self._pins[model_id, point] = (value, raw)

    def freeze(self, at: float | None) -> None:
        """Stop the model's clock at ``at`` (None lets it run again)."""
        with self._lock:
            self._frozen_at = at

    def values(self, at: float) -> dict[int, dict[str, Any]]:
        with self._lock:
            frozen_at, pins = self._frozen_at, dict(self._pins)
        values = super().values(at if frozen_at is None else frozen_at)
        for (model_id, name), (value, _) in pins.items():
            values.setdefault(model_id, {})[name] = value
        points = {(m, p.name): p for m, _, _, points in self.layout for p in points}
        for (model_id, name), (value, raw) in pins.items():
            exponent = scale_factor(points[model_id, name], values[model_id]) if raw else None
            if exponent is not None:  # the value that sends this number
                values[model_id][name] = value * 10**exponent
        return values

    def expected(self) -> dict[str, Any]:
        """What each point should read as now, by seed id (``103.W``): the number sent times
        ten to the power of its scale factor, or the text; points not implemented left out."""
        registers = self.registers(time.time())
        result: dict[str, Any] = {}
        for model_id, register, _, points in self.layout:
            at = register + 2 - self.chain.base
            sent = {}
            for point in points[2:]:
                sent[point.name] = _sent(point, registers[at : at + point.size])
                at += point.size
            for point in points[2:]:
                value = sent[point.name]
                if value is None or point.type in ("sunssf", "pad"):
                    continue
                if point.scale_factor:
                    exponent = sent[point.scale_factor]
                    if exponent is None:
                        continue
                    value = value * 10**exponent if exponent >= 0 else value / 10**-exponent
                result[f"{model_id}.{point.name}"] = value
        return result

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if count > self.max_read:
            return ExcCodes.ILLEGAL_VALUE
        return await super()._action(
            function_code, start_address, address, count, current_registers, set_values
        )

    def _server(self) -> ModbusTcpServer:
        return ModbusTcpServer(
            self._device(), address=(self.host, self.port), trace_pdu=self._trace_pdu
        )

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.requests.append((pdu.function_code, pdu.address, pdu.count))
        return pdu


def _sent(point: SimulatedPoint, words: Sequence[int]) -> Any:
    """The number or text ``words`` send, None for "not implemented"."""
    if point.type == "string":
        text = struct.pack(f">{len(words)}H", *words).rstrip(b"\0").decode()
        return text or None
    layout, missing = PACKING[point.type]
    (raw,) = struct.unpack(layout, struct.pack(f">{len(words)}H", *words))
    return None if raw == missing else raw

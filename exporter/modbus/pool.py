"""The targets a ``/probe`` module reads, kept for their counters and what they learned,
and the device a probe asks for."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from exporter.config import parse_address
from exporter.modbus.config import DEFAULT_MODBUS_PORT
from exporter.modbus.target import Address, ModbusTarget
from exporter.modules import BadRequest

Target = TypeVar("Target", bound=ModbusTarget[Any])


class TargetPool(Generic[Target]):
    """The targets read through ``/probe``, one per address and unit, made by ``make`` on
    first use, and forgotten once unused for ``idle_seconds``; beyond ``max_targets`` the
    least recently used go sooner, but never one used within ``busy_seconds`` (longer than
    any scrape may take), so a scrape in flight keeps its target and its counters. Used on
    the event loop the targets are read on.
    """

    def __init__(
        self,
        make: Callable[[Address], Target],
        *,
        max_targets: int = 1024,
        idle_seconds: float = 600.0,
        busy_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make = make
        self._max_targets = max_targets
        self._idle_seconds = idle_seconds
        self._busy_seconds = busy_seconds
        self._clock = clock
        self._targets: OrderedDict[Address, Target] = OrderedDict()

    def get(self, address: Address) -> Target:
        """The target at ``address``, made on first use."""
        now = self._clock()
        target = self._targets.get(address)
        if target is None:
            target = self._targets[address] = self._make(address)
        else:
            self._targets.move_to_end(address)
        target.last_used = now
        self._forget_unused(now)
        return target

    def __len__(self) -> int:
        return len(self._targets)

    def _forget_unused(self, now: float) -> None:
        """From the least recently handed out: the idle ones, and while over the limit, any
        not busy; stops at the first it keeps, so a probe costs the same at any pool size."""
        while self._targets:
            address, target = next(iter(self._targets.items()))
            idle = now - target.last_used
            over = len(self._targets) > self._max_targets
            if idle < self._idle_seconds and not (over and idle >= self._busy_seconds):
                return
            del self._targets[address]
            target.close()


def probed_address(params: Mapping[str, str]) -> Address:
    """The device a ``/probe`` asks for: ``target=HOST[:PORT]`` and ``unit_id`` (default 1)."""
    target = params.get("target", "")
    if not target:
        raise BadRequest("'target' parameter is missing")
    try:
        host, port = parse_address(target, DEFAULT_MODBUS_PORT)
        unit_id = int(params.get("unit_id", "1"))
    except ValueError as exc:
        raise BadRequest(f"bad target or unit_id: {exc}") from None
    if not 0 <= unit_id <= 255:
        raise BadRequest("unit_id must be 0..255")
    return Address(host, port, unit_id)

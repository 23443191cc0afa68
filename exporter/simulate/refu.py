"""A simulated REFU battery inverter on a real Modbus TCP server; it refuses writes.

``RefuModel`` says what the exporter should show at a given time (volts, amperes, watts,
ratios, joules, state numbers, bit words); ``RefuSimulator`` encodes those values into the
registers of the REFU mapping, never with the exporter's decoding: a test comparing a scrape
with the simulated values checks the exporter's word order, sign and scale against an
independent encoder.
"""

from __future__ import annotations

import asyncio
import math
import struct
import time

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from exporter.model import Channel
from exporter.refu.channels import (
    READ_FUNCTIONS,
    RefuMapping,
    Register,
    WordOrder,
    load_refu_mapping,
)
from exporter.simulate.modbus import ModbusSimulator

_PERIOD = 3600.0  # s, one charge/discharge cycle: a time-lapse of a day
_PEAK_POWER = 5000.0  # W
_FAULT_EVERY, _FAULT_FOR = 600.0, 60.0  # s: one minute in ten is a fault
_CELLS = 192
_CELL_RESISTANCE = 0.1  # ohm, the whole string
_EFFICIENCY = 0.97
_GRID_VOLTAGE = 230.0
_PHASE_SHARES = (0.34, 0.33, 0.33)
_POWER_LIMIT = 10_000.0  # W, charge and discharge limit away from the SoC bounds
_KWH = 3_600_000.0  # J
#: Counter start values, above 65535 kWh so that both words of the 32-bit registers matter.
_CHARGED_START = 70_000 * _KWH
_DISCHARGED_START = 66_000 * _KWH
_FAULT_ALARM1 = 1 << 6  # Normal high temperature
_FAULT_FAULT1 = 1 << 1  # Normal leakage of battery group


class RefuModel:
    """Plausible, slowly changing values of a REFU ESS, by the seed's channel names.

    Battery power follows a sine of ``_PERIOD`` between -5 kW (charging) and +5 kW
    (discharging), the state of charge follows it between 10 % and 90 %, and the energy
    counters are its exact integrals, so they never decrease. Channels not named here
    (error codes, the error log, most alarm and fault words) are 0.
    """

    def __init__(self, epoch: float = 0.0) -> None:
        #: The time at which the counters have their start values and no fault is active.
        self.epoch = epoch

    def values(self, at: float) -> dict[str, float | int]:
        t = at - self.epoch
        phase = 2 * math.pi * t / _PERIOD
        power = _PEAK_POWER * math.sin(phase)  # AC side, positive = discharge
        reactive = 400.0 * math.sin(3 * phase)
        soc = 0.5 + 0.4 * math.cos(phase)  # falls while discharging
        fault = t % _FAULT_EVERY >= _FAULT_EVERY - _FAULT_FOR

        battery_power = power / _EFFICIENCY if power >= 0 else power * _EFFICIENCY
        open_circuit = _CELLS * (3.20 + 0.15 * soc)
        voltage = open_circuit - _CELL_RESISTANCE * battery_power / open_circuit
        current = battery_power / voltage
        cell = voltage / _CELLS
        load = abs(math.sin(phase))
        charge_limit = _POWER_LIMIT * min(1.0, max(0.0, (0.95 - soc) / 0.1))
        discharge_limit = _POWER_LIMIT * min(1.0, max(0.0, (soc - 0.05) / 0.1))

        values: dict[str, float | int] = {
            "SystemState": 5 if fault else 4,
            "SystemError1": 1 << 9 | 1 << 10,  # BMS Ready, TREX Ready
            "CommunicationInformations": 0b10111,
            "InverterStatus": 1 | 2 | 4 | 2048 | 16384,
            "DCDCStatus": 1 | 2 | 4 | 512,
            "BatteryCurrentPcs": current,
            "BatteryVoltagePcs": voltage - 0.3,
            "Current": power / _GRID_VOLTAGE,
            "ActivePower": power,
            "ReactivePower": reactive,
            "PcsAllowedCharge": charge_limit,
            "PcsAllowedDischarge": discharge_limit,
            "BatteryState": 5 if fault else 3,
            "BatteryVoltage": voltage,
            "BatteryCurrent": current,
            "BatteryPower": battery_power,
            "Soc": soc,
            "AllowedChargeCurrent": -charge_limit / voltage,
            "AllowedDischargeCurrent": discharge_limit / voltage,
            "AllowedCharge": -charge_limit,
            "AllowedDischarge": discharge_limit,
            "BatteryChargeEnergy": _CHARGED_START + _discharged(phase - math.pi) * _EFFICIENCY,
            "BatteryDischargeEnergy": _DISCHARGED_START + _discharged(phase) / _EFFICIENCY,
            "BatteryOperationStatus": 1 | 2,
            "BatteryHighestVoltage": cell + 0.015,
            "BatteryLowestVoltage": cell - 0.012,
            "BatteryHighestTemperature": 27 + 5 * load,
            "BatteryLowestTemperature": 23 + 2 * load,
            "BatteryAlarm1": _FAULT_ALARM1 if fault else 0,
            "BatteryFault1": _FAULT_FAULT1 if fault else 0,
            "BatteryGroupControlStatus": 0x0003,
            "SetWorkState": 1,
            "SetActivePower": power,
            "SetReactivePower": reactive,
        }
        for phase_name, share in zip(("L1", "L2", "L3"), _PHASE_SHARES, strict=True):
            phase_power, phase_reactive = power * share, reactive / 3
            apparent = math.hypot(phase_power, phase_reactive)
            values[f"Current{phase_name}"] = phase_power / _GRID_VOLTAGE
            values[f"ActivePower{phase_name}"] = phase_power
            values[f"ReactivePower{phase_name}"] = phase_reactive
            # The register's scale is not documented; simulated in thousandths.
            values[f"CosPhi{phase_name}"] = 1000 * abs(phase_power) / apparent if apparent else 1000
            values[f"SetActivePower{phase_name}"] = power / 3
            values[f"SetReactivePower{phase_name}"] = reactive / 3
        apparent = math.hypot(power, reactive)
        values["CosPhi3p"] = 1000 * abs(power) / apparent if apparent else 1000
        return values


def _discharged(phase: float) -> float:
    """Energy of the sine power's positive lobes up to ``phase``; the charged energy is the
    same, half a cycle later."""
    cycles, rest = divmod(phase, 2 * math.pi)
    half_lobe = _PEAK_POWER * _PERIOD / (2 * math.pi)  # from a lobe's start to its top
    return cycles * half_lobe * 2 + half_lobe * (1 - math.cos(min(rest, math.pi)))


def raw_value(channel: Channel[Register], value: float) -> int:
    """The register's number for an exported value: ``value / scale``, rounded."""
    return round(value / channel.scale)


def encode(register: Register, raw: int) -> list[int]:
    """The words of a raw value: two's complement, in the register's word order."""
    count, signed = register.type.words, register.type.signed
    try:
        packed = raw.to_bytes(2 * count, "big", signed=signed)
    except OverflowError:
        raise ValueError(f"{raw} does not fit a {register.type.value} register") from None
    words = list(struct.unpack(f">{count}H", packed))
    return words[::-1] if register.word_order is WordOrder.LSW_FIRST else words


class RefuSimulator(ModbusSimulator):
    """A REFU ESS on a Modbus TCP server, answering every unit id; ``delay_seconds``
    (settable while running) stalls every read of a defined register."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5020,
        *,
        mapping: RefuMapping | None = None,
        model: RefuModel | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(host, port)
        self.mapping = mapping or load_refu_mapping()
        self.model = model or RefuModel(epoch=time.time())
        self.delay_seconds = delay_seconds
        #: The register channels served, by seed id.
        self.channels = {c.seed_id: c for c in self.mapping.register_channels}
        for channel in self.channels.values():
            if channel.location.function not in (3, 4):
                raise ValueError(f"{channel.seed_id}: the simulator serves registers 3 and 4 only")

    def values(self, at: float) -> dict[str, float]:
        """The exported value of every register channel at ``at``, by seed id."""
        modelled = self.model.values(at)
        # Model values carry the seed's names; seed ids may carry the device as prefix.
        prefix = f"{self.mapping.model.device}."
        return {seed_id: modelled.get(seed_id.removeprefix(prefix), 0) for seed_id in self.channels}

    # -- the Modbus device

    def device(self) -> SimDevice:
        def space(function: int) -> list[SimData]:
            """The registers from the lowest to the highest one of ``function``. Unused ones
            between (0x119 and 0x134 of the input registers) read as 0: a real device may or
            may not accept a read spanning them, the simulator does."""
            used = [c.location for c in self.channels.values() if c.location.function == function]
            if not used:  # pymodbus rejects an empty address space
                return [SimData(0, datatype=DataType.INVALID)]
            first, end = min(r.register for r in used), max(r.end for r in used)
            return [SimData(first, count=end - first, datatype=DataType.REGISTERS)]

        # No coils and no discrete inputs: each space needs an entry, the action refuses them.
        return SimDevice(
            id=0,
            simdata=(
                [SimData(0, datatype=DataType.BITS)],
                [SimData(0, datatype=DataType.BITS)],
                space(3),
                space(4),
            ),
            action=self._action,
        )

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Runs on every request that touches defined addresses, before the datastore acts:
        refuses writes, fills the registers read with the values of now."""
        if function_code not in READ_FUNCTIONS:
            return ExcCodes.ILLEGAL_FUNCTION
        if self.delay_seconds > 0:
            await asyncio.sleep(self.delay_seconds)
        if function_code not in (3, 4):
            return ExcCodes.ILLEGAL_ADDRESS
        for seed_id, value in self.values(time.time()).items():
            channel = self.channels[seed_id]
            register = channel.location
            if register.function == function_code:
                offset = register.register - start_address
                words = encode(register, raw_value(channel, value))
                current_registers[offset : offset + register.type.words] = words
        return None

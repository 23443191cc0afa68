"""A simulated SunSpec inverter on a real Modbus TCP server; it answers reads only.

Two chains: a REFUstore 88K (from register 40000, where OpenEMS reads it) and a single-phase
inverter with a storage model (from register 0: the exporter must look past 40000).
``InverterModel`` says what the points hold at a given time, in SunSpec units; a point it
leaves out sends its type's "not implemented" value. The simulator lays the models out from
the raw model definitions and packs values with ``struct``, never with the exporter's
decoding: a test comparing a scrape with what it sends checks the exporter's word order,
signs and scale factors against an independent encoder.
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from exporter.config import load_yaml
from exporter.model import default_mapping_path
from exporter.simulate.modbus import ModbusSimulator
from exporter.sunspec.channels import shipped_definitions

#: "SunS" and the end marker's ID.
_MARKER, _END = (0x5375, 0x6E53), 0xFFFF
#: How each type is packed (big-endian), and the number it sends when not implemented.
PACKING = {
    **dict.fromkeys(("int16", "sunssf"), (">h", -0x8000)),
    **dict.fromkeys(("uint16", "count", "enum16", "bitfield16"), (">H", 0xFFFF)),
    **dict.fromkeys(("acc16", "pad"), (">H", 0)),
    "int32": (">i", -0x8000_0000),
    **dict.fromkeys(("uint32", "enum32", "bitfield32"), (">I", 0xFFFF_FFFF)),
    "acc32": (">I", 0),
}

_PERIOD = 3600.0  # s, one charge/discharge cycle
_FAULT_EVERY, _FAULT_FOR = 600.0, 60.0  # s: one minute in ten is a fault
_GROUND_FAULT, _OVER_TEMP = 1 << 0, 1 << 7
_WH_START = 123_456_700.0  # Wh fed out before the epoch


def _points(text: str) -> dict[str, float]:
    """``"W=5 W_SF=1"`` -> ``{"W": 5.0, "W_SF": 1.0}``: fixed values of a model, compactly."""
    return {name: float(value) for name, value in (item.split("=") for item in text.split())}


@dataclass(frozen=True)
class ChainSpec:
    """A device's chain: the base register, and the models with their lengths (a model
    with no definition is sent as zeros)."""

    name: str
    base: int
    models: tuple[tuple[int, int], ...]
    #: The inverter model (101 or 103) and its scale factors.
    inverter: int
    scale_factors: Mapping[str, float]
    #: Points the device sends as another type than its definition says.
    departures: Mapping[tuple[int, str], str] = field(default_factory=dict)


REFUSTORE_88K = ChainSpec(
    "refustore-88k",
    40000,
    ((1, 66), (103, 50), (120, 26), (121, 30), (123, 24), (64040, 3), (64041, 10), (64800, 14)),
    103,
    # The powers of ten OpenEMS applies to this device.
    _points(
        "A_SF=-2 V_SF=-1 W_SF=1 Hz_SF=-2 VA_SF=1 VAr_SF=1 PF_SF=-1 WH_SF=2 DCA_SF=-2 DCV_SF=-1 "
        "DCW_SF=1 Tmp_SF=-1"
    ),
    {(103, "DCA"): "int16"},  # the DC current is signed
)
STORAGE_INVERTER = ChainSpec(
    "storage",
    0,
    ((1, 66), (101, 50), (124, 24)),
    101,
    _points(
        "A_SF=-1 V_SF=-1 W_SF=0 Hz_SF=-2 VA_SF=0 VAr_SF=0 PF_SF=-2 WH_SF=0 DCA_SF=-1 DCV_SF=-1 "
        "DCW_SF=0 Tmp_SF=0"
    ),
)
CHAINS = {chain.name: chain for chain in (REFUSTORE_88K, STORAGE_INVERTER)}


class InverterModel:
    """Plausible, slowly changing values of a battery inverter, by model and point.

    AC power follows a sine of ``_PERIOD`` between -P (charging) and +P (feeding in);
    the AC energy counter is the integral of what was fed in. One minute in ten the
    inverter is in FAULT with a ground fault and an over-temperature event.
    """

    def __init__(self, chain: ChainSpec, epoch: float = 0.0) -> None:
        self.chain = chain
        self.epoch = epoch
        self.three_phase = chain.inverter == 103
        self.peak = 80_000.0 if self.three_phase else 4_600.0

    def values(self, at: float) -> dict[int, dict[str, Any]]:
        t = max(0.0, at - self.epoch)
        phase = 2 * math.pi * t / _PERIOD
        fault = t % _FAULT_EVERY >= _FAULT_EVERY - _FAULT_FOR
        power = 0.0 if fault else self.peak * math.sin(phase)
        values = {1: self._common(), self.chain.inverter: self._inverter(power, phase, fault)}
        if self.three_phase:
            values |= self._refu(t)
        else:
            values[124] = self._storage(power, phase)
        return values

    def _common(self) -> dict[str, Any]:
        common = {"Mn": "REFU Elektronik", "Md": "REFUstore 88K", "Vr": "2.1.7", "DA": 1}
        if not self.three_phase:
            common |= {"Mn": "Example Storage", "Md": "SI-4600", "Opt": "battery", "Vr": "1.0"}
        return common | {"SN": "88K0001234" if self.three_phase else "SI4600-0042"}

    def _inverter(self, power: float, phase: float, fault: bool) -> dict[str, Any]:
        voltage, phases = 230.0 + 2 * math.sin(3 * phase), 3 if self.three_phase else 1
        current = abs(power) / (voltage * phases)
        dc_voltage = 720.0 if self.three_phase else 52.0
        dc_power = power / 0.97 if power >= 0 else power * 0.97
        cycles, rest = divmod(phase, 2 * math.pi)
        lobe = self.peak * _PERIOD / (2 * math.pi) / 3600  # Wh fed in over half a lobe
        fed_in = lobe * (2 * cycles + 1 - math.cos(min(rest, math.pi)))
        values: dict[str, Any] = {
            "A": current * phases,
            "AphA": current,
            "PhVphA": voltage,
            "W": power,
            "Hz": 50.0 + 0.02 * math.sin(5 * phase),
            "VA": abs(power),
            "VAr": 0.0,
            "WH": _WH_START + fed_in,
            "DCA": dc_power / dc_voltage,
            "DCV": dc_voltage,
            "DCW": dc_power,
            "TmpCab": 31.5 + 4 * abs(math.sin(phase)),
            "TmpSnk": 38.0 + 9 * abs(math.sin(phase)),
            "St": 7 if fault else (9 if abs(power) < 0.05 * self.peak else 4),
            "Evt1": _GROUND_FAULT | _OVER_TEMP if fault else 0,
            "Evt2": 0,
        }
        if self.three_phase:
            values["AphB"] = values["AphC"] = current
            values["PhVphB"] = values["PhVphC"] = voltage
            values["PPVphAB"] = values["PPVphBC"] = values["PPVphCA"] = voltage * math.sqrt(3)
            values |= dict.fromkeys(("EvtVnd1", "EvtVnd2", "EvtVnd3", "EvtVnd4"), 0)
        else:
            values |= {"PF": 1.0 if power >= 0 else -1.0, "StVnd": 2}
        return {**values, **self.chain.scale_factors}

    def _refu(self, t: float) -> dict[int, dict[str, Any]]:
        return {
            120: _points(
                "DERTyp=82 WRtg=88000 WRtg_SF=1 VARtg=88000 VARtg_SF=1 VArRtgQ1=88000 "
                "VArRtgQ2=88000 VArRtgQ3=-88000 VArRtgQ4=-88000 VArRtg_SF=1 ARtg=133 ARtg_SF=-2 "
                "PFRtgQ1=0.8 PFRtgQ2=0.8 PFRtgQ3=-0.8 PFRtgQ4=-0.8 PFRtg_SF=-3"
            ),
            121: _points(
                "WMax=88000 WMax_SF=1 VRef=230 VRef_SF=0 VRefOfs=0 VRefOfs_SF=0 VMax=253 VMin=207 "
                "VMinMax_SF=0 VAMax=88000 VAMax_SF=1 VArMaxQ1=44000 VArMaxQ2=44000 "
                "VArMaxQ3=-44000 VArMaxQ4=-44000 VArMax_SF=1 WGra=10 WGra_SF=0 PFMinQ1=0.9 "
                "PFMinQ2=0.9 PFMinQ3=-0.9 PFMinQ4=-0.9 PFMin_SF=-2 VArAct=1 ClcTotVA=1 "
                "MaxRmpRte=20 MaxRmpRte_SF=0 ECPNomHz=50 ECPNomHz_SF=0 ConnPh=1"
            ),
            123: _points(
                "Conn_WinTms=0 Conn_RvrtTms=0 Conn=1 WMaxLimPct=80 WMaxLimPct_SF=-1 "
                "WMaxLimPct_WinTms=0 WMaxLimPct_RvrtTms=0 WMaxLimPct_RmpTms=60 WMaxLim_Ena=1 "
                "OutPFSet=0.95 OutPFSet_SF=-3 OutPFSet_WinTms=0 OutPFSet_RvrtTms=0 "
                "OutPFSet_RmpTms=0 OutPFSet_Ena=0 VArWMaxPct=-12.5 VArMaxPct=0 VArAvalPct=0 "
                "VArPct_SF=-1 VArPct_WinTms=0 VArPct_RvrtTms=0 VArPct_RmpTms=0 VArPct_Mod=1 "
                "VArPct_Ena=0"
            ),
            64800: _points(
                "LocRemCtl=0 CtrlHb=0 PCSSetOp=1 MaxBatACha=150 MaxBatADischa=150 MaxBatA_SF=-2 "
                "MaxA=133 MaxA_SF=0 MaxACur=100 MaxACur_SF=0"
            )
            | {"PCSHb": int(t) % 0xFFFF},
        }

    def _storage(self, power: float, phase: float) -> dict[str, Any]:
        soc = 50.0 + 40.0 * math.cos(phase)  # falls while discharging
        fixed = _points(
            "WChaMax=4600 WChaMax_SF=0 ChaState_SF=-1 StorAval_SF=-1 InBatV=51.2 InBatV_SF=-1 "
            "MinRsvPct=10 MinRsvPct_SF=-1 ChaGriSet=0 InOutWRte_SF=-1 OutWRte=100 InWRte=100"
        )
        # 100 Ah of capacity: what is stored above the 10 % reserve.
        stored = {"ChaState": soc, "StorAval": soc - 10.0, "ChaSt": 3 if power > 0 else 4}
        return fixed | stored


@dataclass(frozen=True)
class SimulatedPoint:
    """A point of a model as the simulator lays it out: name, type, registers, scale factor."""

    name: str
    type: str
    size: int
    scale_factor: str | None


def _layouts() -> dict[int, list[SimulatedPoint]]:
    """The top-level points of every model definition, in register order."""
    vendor = load_yaml(default_mapping_path("sunspec").read_text(encoding="utf-8"))
    definitions = [*shipped_definitions(), *vendor["vendor_models"]]
    return {
        d["id"]: [
            SimulatedPoint(p["name"], p["type"], int(p["size"]), p.get("sf"))
            for p in d["group"]["points"]
        ]
        for d in definitions
    }


def _encode(point: SimulatedPoint, value: Any, scale_factor: int | None) -> list[int]:
    """The registers of a value (in SunSpec units: ``scale_factor`` makes it the number
    sent); None sends the type's "not implemented" value."""
    if point.type == "string":
        text = b"" if value is None else str(value).encode()
        return list(struct.unpack(f">{point.size}H", text.ljust(2 * point.size, b"\0")))
    layout, missing = PACKING[point.type]
    if value is None:
        raw = missing
    elif point.scale_factor and scale_factor is not None:
        raw = round(value / 10**scale_factor)
    else:
        raw = round(value)
    packed = struct.pack(layout, raw)
    return list(struct.unpack(f">{len(packed) // 2}H", packed))


#: One model of the simulated chain: its id, the register of its header, its length, points.
ChainEntry = tuple[int, int, int, list[SimulatedPoint]]


class SunSpecSimulator(ModbusSimulator):
    """A SunSpec device on a Modbus TCP server, answering every unit id; it answers reads
    of its holding registers only (the chain, from its base register)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5021,
        *,
        chain: ChainSpec = REFUSTORE_88K,
        model: InverterModel | None = None,
    ) -> None:
        super().__init__(host, port)
        self.chain = chain
        self.model = model or InverterModel(chain, epoch=time.time())
        layouts = _layouts()
        #: The models of the chain (a model with no definition has no points: zeros).
        self.layout: list[ChainEntry] = []
        register = chain.base + len(_MARKER)
        for model_id, length in chain.models:
            points = [
                replace(p, type=chain.departures.get((model_id, p.name), p.type))
                for p in layouts.get(model_id, [])
            ]
            self.layout.append((model_id, register, length, points))
            register += 2 + length
        self.end = register + 2  # past the end marker

    def values(self, at: float) -> dict[int, dict[str, Any]]:
        """The value of every point at ``at``, in SunSpec units, by model and point name."""
        return self.model.values(at)

    def registers(self, at: float) -> list[int]:
        """The whole map at ``at``, from the base register: marker, models, end marker."""
        values = self.values(at)
        words = list(_MARKER)
        for model_id, _, length, points in self.layout:
            given = values.get(model_id, {})
            body = [
                word
                for point in points[2:]  # after ID and L
                for word in _encode(point, given.get(point.name), scale_factor(point, given))
            ]
            words += [model_id, length, *body, *[0] * (length - len(body))]
        return [*words, _END, 0]

    # -- the Modbus device

    def device(self) -> SimDevice:
        base = self.chain.base
        holding = [SimData(base, count=self.end - base, datatype=DataType.REGISTERS, readonly=True)]
        nothing = [SimData(0, datatype=DataType.INVALID)]
        bits = [SimData(0, datatype=DataType.BITS)]
        return SimDevice(id=0, simdata=(bits, bits, holding, nothing), action=self._action)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Runs on every request for defined registers: refuses all but reads of holding
        registers, fills the registers read with the values of now."""
        if function_code != 3 or set_values is not None:
            return ExcCodes.ILLEGAL_FUNCTION
        offset = start_address - self.chain.base
        registers = self.registers(time.time())
        current_registers[:] = registers[offset : offset + len(current_registers)]
        return None


def scale_factor(point: SimulatedPoint, values: Mapping[str, Any]) -> int | None:
    """The power of ten of ``point`` among the ``values`` of its model (None: none, or its
    scale factor is not implemented)."""
    exponent = values.get(point.scale_factor) if point.scale_factor else None
    return None if exponent is None else int(exponent)

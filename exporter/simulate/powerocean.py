"""A simulated PowerOcean publishing protobuf frames to an MQTT broker, as its firmware does.

``PowerOceanModel`` makes the messages of a Plus (three solar strings, two packs) at a given
time from power flows whose balance holds (load = grid + solar - battery, battery positive
while charging). Like real firmware it splits the EMS report into settings (96/8), safety
parameters (96/16) and state (96/17), sends explicit zeros where the firmware does, leaves
zeros out of the energy stream, and sends partial reports mid-session. ``DcFitModel`` and
``Ocean2Model`` are the other ``MODELS``, with the same flows. ``PowerOceanPublisher`` sends
them as the cloud does: on ``/app/device/property/<serial>`` every few seconds, everything
when a get-all arrives, and the hourly energy statistics (254/32); or as the Open API streams
them (``quota_stream``).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from google.protobuf import text_format
from google.protobuf.message import Message
from paho.mqtt.enums import CallbackAPIVersion

from exporter.powerocean.channels import PowerOceanMapping, load_powerocean_mapping
from exporter.powerocean.codec import decode_message
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import APP, DEVICE

log = logging.getLogger(__name__)

_DAY = 3600.0  # s: one simulated day per hour
_HOUR = 3600  # s: one bucket of the energy statistics
_DEVICE_DAY = 86_400  # s: the statistics' day, a calendar day (UTC, as on the units seen)
_WEEK_DAYS = 7  # days of statistics the device keeps and pushes after a connect or get-all
_STATISTICS_SECONDS = 30  # how often the device pushes today's statistics once the week is sent
_INTEGRATION_STEP = 10.0  # s: the simulator's own integration of its power curve
_PACK_WH = 5120.0  # a Plus's pack and an Ocean 2's module alike
_STRING_SHARES = (0.5, 0.3, 0.2)  # a Plus with three solar strings

# What a Plus reports that does not follow the simulated flows, in protobuf text format.
#: 96/8, the settings, with the explicit zeros real firmware sends.
_SETTINGS = text_format.Parse(
    """
    ems_work_mode: 0  chg_dsg_mode: 0  chg_dsg_pwr: 700  ems_ctrl_led_bright: 100
    sys_bat_dsg_down_limit: 10  sys_bat_chg_up_limit: 100  sys_bat_backup_ratio: 0
    emsFeedMode: 3  emsFeedRatio: 70  emsFeedPwr: 8400
    """,
    pb.JTS1_EMS_CHANGE_REPORT(),
)
#: 96/16, a few grid-code parameters.
_SAFETY = text_format.Parse(
    """
    pcsOverVol1: 287.5  pcsLowVol1: 184  pcsOverFreq1: 51.5  pcsLowFreq1: 47.5
    pcs_safety_country_code_selection: 4  pcs_island_detect_switch: 1
    """,
    pb.JTS1_EMS_CHANGE_REPORT(),
)
#: 96/17, the EMS state but for the state of charge, packs online and energy counters.
_STATE = text_format.Parse(
    """
    sys_work_sta: 0  pcs_run_sta: 1  ems_work_state: 7
    pcs_ac_err_code: 0  pcs_dc_err_code: 0  pcs_ac_warning_code: 0
    mppt1_fault_code: 0  mppt2_fault_code: 0  afci_fault_flag_ch1: 0  afci_fault_flag_ch2: 0
    bp_line_off_flag: 0  bp_reverse_flag: 0  bat_relay_close_fail_flag: 0
    wifi_sta_stat: 0  eth_wan_stat: 32  iot_4g_sta: 0
    """,
    pb.JTS1_EMS_CHANGE_REPORT(),
)
#: What a pack reports that does not follow the flows or its slot.
_PACK = text_format.Parse(
    """
    bpSoh: 100  bpRealSoh: 99.2  bpCalendarSoh: 99.5  bpCycleSoh: 99
    bpDesignCap: 100000  bpFullCap: 98500  bpBusVol: 820
    bpDownLimitSoc: 5  bpUpLimitSoc: 100  bpChgSop: 100  bpDsgSop: 100
    bpTargetSoc: 100  bpMaxSoc: 100  bpMinSoc: 0  bpLimitSoc: 100
    bpEcloundSoc: 65535  # "none", as real packs send it
    bpHvMosTemp: 30  bpLvMosTemp: 29  bpMaxMosTemp: 30  bpMinMosTemp: 29  bpPtcTemp: 22
    bpPtcTemp2: 22  bpHtsTemp: 26  bpBusNegTemp: 27  bpBusPosTemp: 27.5  bpEnvTemp: 21
    bpRunSta: 1  bmsRunSta: 1  bpSysState: 2  dabModSta: 0
    # Real packs send their status words even when they are 0.
    bpErrCode: 0  bpBmsFault: 0  bpGlobalProtect: 0  bpBalanceState: 0
    bpActiveCalReqStat: 0  bpActiveCalRunStat: 0  moduleProgramSta: 0
    bpAcRechargeFlag: 0  bpPtcHeatFlag: 0  bpPtcExitEvent: 0
    bpHeartbeatVer: 3  moduleProductInfo: 104
    moduleAplSwVer: 0x01020003  moduleLoaderSwVer: 0x01010000  # 1.2.0.3, 1.1.0.0
    """,
    pb.bpStaReport(),
)
#: 53/113, the components of a Plus on its system bus.
_COMPONENTS = text_format.Parse(
    """
    total_page: 1  page: 1
    module { addr: 96  product_type: 87  product_detail: 1  module_sn: "R374MOD000000096"
             app_ver: 0x0300130F  loader_ver: 0x01000002 }
    module { addr: 4  product_type: 87  product_detail: 2  module_sn: "R374MOD000000004"
             app_ver: 0x0400064B  loader_ver: 0x0100000E }
    module { addr: 53  product_type: 87  product_detail: 4  module_sn: "R374MOD000000053"
             app_ver: 0x0502025D }
    """,
    pb.ModuleClusterInfo(),
)
#: Fields a Plus sends in its heartbeat that the schema does not name, as a captured heartbeat
#: holds them: 22 = 1 and 23 = 1 (varints), 200 = 860.0 and 201 = 800.0 (floats).
_UNNAMED_HEARTBEAT_FIELDS = bytes.fromhex("b00101 b80101 c50c00005744 cd0c00004844")


def build_payload(serial: str, messages: list[tuple[int, int, Message]]) -> bytes:
    """Build a device push: one header per ``(cmd_func, cmd_id, message)``."""
    envelope = pb.HeaderMessage()
    for cmd_func, cmd_id, message in messages:
        pdata = message.SerializeToString()
        envelope.header.add(
            src=DEVICE, dest=APP, cmd_func=cmd_func, cmd_id=cmd_id, module_sn=serial, pdata=pdata
        )
    return envelope.SerializeToString()


def _nonzero(**values: float) -> dict[str, Any]:
    """An energy stream's values as firmware sends them: a value that is 0 is left out."""
    return {name: value for name, value in values.items() if value}


class PowerOceanModel:
    #: The energy types of its 254/32 statistics, each with the power (W, from ``flows``) it
    #: counts. A J327 sends types 1, 64 and 128 and no source names them; the simulator's
    #: choice follows what that capture suggests: 1 counts solar, 64 and 128 both count
    #: the energy exported to the grid. A model without statistics has none.
    energy_types: ClassVar[Mapping[int, Callable[[dict[str, float]], float]]] = {
        1: lambda flows: flows["solar"],
        64: lambda flows: max(0.0, -flows["grid"]),
        128: lambda flows: max(0.0, -flows["grid"]),
    }
    #: Cells in series in a pack.
    cells: ClassVar[int] = 16

    def __init__(
        self,
        packs: Sequence[str] = ("HJ31ZDH4ZF1A0001", "HJ31ZDH4ZF1A0002"),
        epoch: float | None = None,
    ) -> None:
        self.packs = tuple(packs)
        #: When the lifetime counters have their start values.
        self.epoch = time.time() if epoch is None else epoch

    def flows(self, at: float) -> dict[str, float]:
        """Power flows in W: solar, load, battery (+ charging), grid (+ import); SoC in %."""
        phase = 2 * math.pi * (at % _DAY) / _DAY
        solar = max(0.0, 6000.0 * math.sin(phase))
        load = 450.0 + 350.0 * abs(math.sin(3 * phase))
        soc = 50.0 - 35.0 * math.cos(phase)  # charges while the sun shines
        battery = max(-5000.0, min(5000.0, solar - load))
        if (soc >= 95 and battery > 0) or (soc <= 10 and battery < 0):
            battery = 0.0
        grid = load - solar + battery
        return {"solar": solar, "load": load, "battery": battery, "grid": grid, "soc": soc}

    def messages(self, at: float) -> dict[str, Message]:
        """Every message of a get-all, by message name."""
        flows, hours = self.flows(at), (at - self.epoch) / 3600
        state = self._counters(flows, hours)
        state.bp_online_sum = len(self.packs)
        state.MergeFrom(_STATE)
        packs = [self._pack(slot, flows, hours) for slot in range(1, len(self.packs) + 1)]
        return {
            "JTS1_ENERGY_STREAM_REPORT": self._stream(flows),
            "JTS1_EMS_HEARTBEAT": self._heartbeat(at, flows),
            "JTS1_EMS_CHANGE_REPORT": copy.deepcopy(_SETTINGS),
            "JTS1_EMS_SAFETY_PARAM_REPORT": copy.deepcopy(_SAFETY),
            "JTS1_EMS_STATE_CHANGE_REPORT": state,
            "JTS1_BP_STA_REPORT": pb.JTS1_BP_STA_REPORT(bpSta=packs),
            "MODULE_CLUSTER_INFO": copy.deepcopy(_COMPONENTS),
        }

    def update(self, at: float, tick: int) -> dict[str, Message]:
        """What the device pushes mid-session on its ``tick``-th interval: the energy
        stream every time; every third time the heartbeat and one pack (in turn); every
        tenth a partial 96/17 with only the state of charge and the energy counters."""
        flows, hours = self.flows(at), (at - self.epoch) / 3600
        sent: dict[str, Message] = {"JTS1_ENERGY_STREAM_REPORT": self._stream(flows)}
        if tick % 3 == 0:
            sent["JTS1_EMS_HEARTBEAT"] = self._heartbeat(at, flows)
            pack = self._pack((tick // 3) % len(self.packs) + 1, flows, hours)
            sent["JTS1_BP_STA_REPORT"] = pb.JTS1_BP_STA_REPORT(bpSta=[pack])
        if tick % 10 == 0:
            sent["JTS1_EMS_STATE_CHANGE_REPORT"] = self._counters(flows, hours)
        return sent

    def energy_item(self, energy_type: int, day: int, until: float) -> pb.EnergyItem:
        """The statistics of ``energy_type`` for the device day starting at ``day``, as of
        ``until``: the Wh of each of its 24 hours, integrated from the power curve; an hour
        not begun yet is 0."""
        counted = self.energy_types[energy_type]
        hours = range(day, day + _DEVICE_DAY, _HOUR)
        watth = [round(self._joules(counted, h, min(h + _HOUR, until)) / 3600) for h in hours]
        return pb.EnergyItem(timestamp=day, watth_type=energy_type, watth=watth)

    def _joules(
        self, counted: Callable[[dict[str, float]], float], start: float, end: float
    ) -> float:
        """The energy of the ``counted`` power from ``start`` to ``end``, 0 if ``end`` is not
        later: the midpoint rule with steps of at most ``_INTEGRATION_STEP``."""
        if end <= start:
            return 0.0
        steps = math.ceil((end - start) / _INTEGRATION_STEP)
        step = (end - start) / steps
        return sum(counted(self.flows(start + (n + 0.5) * step)) for n in range(steps)) * step

    def _stream(self, flows: dict[str, float]) -> pb.JTS1_ENERGY_STREAM_REPORT:
        solar = flows["solar"]
        strings = {f"pv{n}_pwr": solar * share for n, share in enumerate(_STRING_SHARES, 1)}
        return pb.JTS1_ENERGY_STREAM_REPORT(
            **_nonzero(
                sysLoadPwr=flows["load"],
                sysGridPwr=flows["grid"],
                mpptPwr=solar,
                bpPwr=flows["battery"],
                bpSoc=round(flows["soc"]),
                **strings,
            )
        )

    def _counters(self, flows: dict[str, float], hours: float) -> pb.JTS1_EMS_CHANGE_REPORT:
        """The state of charge and energy counters of 96/17."""
        return pb.JTS1_EMS_CHANGE_REPORT(
            bpSoc=round(flows["soc"]),
            bpTotalChgEnergy=int(1_250_000 + 2500 * hours),
            bpTotalDsgEnergy=int(1_180_000 + 2300 * hours),
        )

    def _heartbeat(self, at: float, flows: dict[str, float]) -> pb.JTS1_EMS_HEARTBEAT:
        heartbeat = pb.JTS1_EMS_HEARTBEAT(
            bpRemainWatth=round(flows["soc"]) / 100 * _PACK_WH * len(self.packs),
            pcs_act_pwr=flows["battery"] - flows["solar"],
            pcsAcFreq=50.0 + 0.02 * math.sin(at / 7),
            pcsBusVolt=770.0 + math.sin(at / 13),
            pcs_meter_power=flows["grid"] + 3.5 * math.sin(at / 5),
            emsBpAliveNum=len(self.packs),
            emsNtcTempMax=45.0 + 10.0 * flows["solar"] / 6000,
            ems_pv_inv_pwr=0.0,
        )
        ac = (flows["solar"] - flows["battery"]) / 3  # inverter output per phase
        phases = heartbeat.pcsAPhase, heartbeat.pcsBPhase, heartbeat.pcsCPhase
        for index, phase in enumerate(phases):
            volt = 230.0 + index * 0.4 + math.sin(at / 11 + index)
            phase.volt, phase.actPwr = volt, -ac
            phase.reactPwr = 40.0 + 10 * index
            phase.apparentPwr = math.hypot(ac, phase.reactPwr)
            phase.amp = phase.apparentPwr / volt
        mppt = heartbeat.mpptHeartBeat.add(mpptInsResist=1200.0, mpptTempVal=[38.5, 37.0, 36.2])
        for share in _STRING_SHARES:
            power = flows["solar"] * share
            volt = 380.0 + 20 * share if power else 0.0
            mppt.mpptPv.add(
                vol=volt, amp=power / volt if volt else 0.0, pwr=power, lightSta=int(power > 0)
            )
        heartbeat.MergeFromString(_UNNAMED_HEARTBEAT_FIELDS)
        return heartbeat

    def _battery(self, slot: int, flows: dict[str, float], **fields: Any) -> pb.bpStaReport:
        """The report of the pack in ``slot`` (from 1), with ``fields``: the packs share the
        battery power and are a little apart in charge."""
        power = flows["battery"] / len(self.packs)
        soc = flows["soc"] + slot - 1.5
        cells = [3200.0 + 2.0 * soc + 3 * math.sin(i + slot) for i in range(self.cells)]  # mV
        volt = sum(cells) / 1000
        return pb.bpStaReport(
            bpSn=self.packs[slot - 1].encode(),
            bpDsrc=slot,
            bpPwr=power,
            bpSoc=round(soc),
            bpRealSoc=soc,
            bpRemainWatth=soc / 100 * _PACK_WH,
            bpVol=volt,
            bpAmp=power / volt,
            bpCellVol=cells,
            bpMaxCellVol=max(cells),
            bpMinCellVol=min(cells),
            bpTimestamp=int(time.time()),
            **fields,
        )

    def _pack(self, slot: int, flows: dict[str, float], hours: float) -> pb.bpStaReport:
        battery = flows["battery"]
        pack = self._battery(
            slot,
            flows,
            bpDiffSoc=abs(slot - 1.5),
            bpTemp=[24.0 + slot, 24.5 + slot, 25.0 + slot, 24.2 + slot],
            bpMaxCellTemp=25.0 + slot,
            bpMinCellTemp=24.0 + slot,
            bpCycles=58 + slot,
            bpAccuChgCap=int(5_489_192 + 12_000 * hours),
            bpAccuDsgCap=int(5_301_004 + 11_000 * hours),
            bpAccuChgEnergy=int(295_209 + 650 * hours),
            bpAccuDsgEnergy=int(284_551 + 600 * hours),
            bmsChgDsgSta=2 if battery > 0 else 1 if battery < 0 else 0,
        )
        pack.MergeFrom(_PACK)
        return pack


class DcFitModel(PowerOceanModel):
    """A PowerOcean DC Fit: its own heartbeat, energy stream and pack report layouts."""

    def messages(self, at: float) -> dict[str, Message]:
        flows = self.flows(at)
        soc = flows["soc"]
        share = flows["battery"] / len(self.packs)
        volt = 51.2 + soc / 100 * 4
        packs = pb.BPChangeReport()
        for slot, serial in enumerate(self.packs, start=1):
            packs.bp_report.add(
                bp_sn=serial,
                bp_pwr=share,
                bp_soc=soc + slot - 1.5,
                bp_vol=volt,
                bp_amp=share / volt,
                bp_run_sta=1,
                bp_mod_sta=0,
                bp_remain_watth=soc / 100 * _PACK_WH,
                bp_bus_vol=400.0,
            )
        heartbeat = pb.EMSHeartbeatReport(
            bp_remain_watth=soc / 100 * _PACK_WH * len(self.packs),
            bp_soc=soc,
            current_netif=0,
            meter_total_power=flows["grid"],
        )
        for phase in "abc":
            setattr(heartbeat, f"meter_{phase}_voltage", 230.0)
            setattr(heartbeat, f"meter_{phase}_current", flows["grid"] / 3 / 230.0)
        stream = _nonzero(
            grid_pwr=flows["grid"],
            dcdc_pwr=flows["battery"],
            bp_pwr=flows["battery"],
            pv_pwr=flows["solar"],
            bp_soc=round(soc),
            load_pwr=flows["load"],
        )
        return {
            "MODULE_CLUSTER_INFO": pb.ModuleClusterInfo(
                module=[pb.ModuleInfo(product_type=85, addr=96, app_ver=0x01000802)]  # 1.0.8.2
            ),
            "DCFIT_ENERGY_STREAM_REPORT": pb.EnergyStreamItem(**stream),
            "DCFIT_EMS_HEARTBEAT": heartbeat,
            "DCFIT_BP_CHANGE_REPORT": packs,
        }

    def update(self, at: float, tick: int) -> dict[str, Message]:
        """The energy stream every interval, heartbeat and packs every third."""
        full = self.messages(at)
        names = ["DCFIT_ENERGY_STREAM_REPORT"]
        if tick % 3 == 0:
            names += ["DCFIT_EMS_HEARTBEAT", "DCFIT_BP_CHANGE_REPORT"]
        return {name: full[name] for name in names}


#: What an Ocean 2's telemetry carries that no peer names: block 64, two floats
#: (306.5 and 5879.5), as a capture holds it.
_UNNAMED_OCEAN2_FIELDS = bytes.fromhex("8204 0a 0d00409943 1500bcb745")
_OCEAN2_STRING_SHARES = (0.6, 0.4)


class Ocean2Model(PowerOceanModel):
    """An Ocean 2: telemetry in nested blocks (254/39) and battery modules (254/46).

    Signs as its firmware sends them: the flow blocks' grid power positive while importing
    and battery power positive while charging, the summary's battery power the other way
    round, and the inverter's AC power (total and per phase) positive while feeding AC
    out, except on RE42 and RE43 units, which send it negative. Mid-session a frame
    carries what changed: the flow block 87 the fields that changed since the last frame
    (a get-all answer carries every field, zeros included), its lagging copy 7 the last
    frame's block 87 without the house load; the inverter's power every time, its phases'
    and strings' voltage and current, and the summary, every fifth time; one module in turn.
    No source has seen an Ocean 2 send the 254/32 statistics: it sends none.
    """

    energy_types: ClassVar[Mapping[int, Callable[[dict[str, float]], float]]] = {}
    cells = 5  # a module is 5S, about 16 V

    def __init__(self, serial: str = "RE11ZD1AZH000001", epoch: float | None = None) -> None:
        super().__init__([f"RE12{serial[4:-1]}{n}" for n in (1, 2)], epoch)
        #: The firmware of RE42 and RE43 units sends the inverter's AC power negative.
        self._ac_sign = -1.0 if serial.startswith(("RE42", "RE43")) else 1.0
        #: The flow block last sent, and the one before it (block 7 lags one frame).
        self._sent = pb.Ocean2EnergyFlow()
        self._lagging = pb.Ocean2EnergyFlow()
        self._lock = threading.Lock()

    def messages(self, at: float) -> dict[str, Message]:
        flows, hours = self.flows(at), (at - self.epoch) / 3600
        flow = self._flow(flows)
        with self._lock:
            self._sent = self._lagging = flow
        telemetry = pb.Ocean2Telemetry(
            inverter=self._inverter(at, flows, details=True),
            energy_flow=flow,
            energy_flow_lagging=flow,
            summary=self._summary(flows),
        )
        telemetry.MergeFromString(_UNNAMED_OCEAN2_FIELDS)
        modules = [self._pack(slot, flows, hours) for slot in range(1, len(self.packs) + 1)]
        return {
            "OCEAN2_TELEMETRY": telemetry,
            "OCEAN2_MODULE_REPORT": pb.Ocean2ModuleReport(module=modules),
        }

    def update(self, at: float, tick: int) -> dict[str, Message]:
        flows, hours = self.flows(at), (at - self.epoch) / 3600
        flow = self._flow(flows)
        with self._lock:
            changed = copy.deepcopy(flow)
            for field, value in flow.ListFields():
                if getattr(self._sent, field.name) == value:
                    changed.ClearField(field.name)
            lagging = copy.deepcopy(self._lagging)
            lagging.ClearField("home_power")
            self._sent, self._lagging = flow, changed
        telemetry = pb.Ocean2Telemetry(
            inverter=self._inverter(at, flows, details=tick % 5 == 0),
            energy_flow=changed,
            energy_flow_lagging=lagging,
        )
        if tick % 5 == 0:
            telemetry.summary.CopyFrom(self._summary(flows))
        module = self._pack(tick % len(self.packs) + 1, flows, hours)
        return {
            "OCEAN2_TELEMETRY": telemetry,
            "OCEAN2_MODULE_REPORT": pb.Ocean2ModuleReport(module=[module]),
        }

    def _flow(self, flows: dict[str, float]) -> pb.Ocean2EnergyFlow:
        """Block 87 in whole watts, as the firmware sends it, every field present."""
        return pb.Ocean2EnergyFlow(
            home_power=round(flows["load"]),
            grid_power=round(flows["grid"]),
            solar_power=round(flows["solar"]),
            battery_power=round(flows["battery"]),
            battery_soc=round(flows["soc"]),
        )

    def _inverter(self, at: float, flows: dict[str, float], *, details: bool) -> pb.Ocean2Inverter:
        """Block 4; ``details``: with the phases' and strings' voltage and current and the
        grid phases, which the firmware sends only when they changed."""
        output = flows["solar"] - flows["battery"]  # W fed out on the AC side
        frequency = 50.0 + 0.02 * math.sin(at / 7)
        inverter = pb.Ocean2Inverter(
            ac_power=self._ac_sign * output,
            frequency=frequency,
            grid_meter_power=flows["grid"] + 3.5 * math.sin(at / 5),
        )
        for number in (1, 2, 3):
            volt = 230.0 + number * 0.4 + math.sin(at / 11 + number)
            power, reactive = output / 3, 40.0 + 10 * number
            phase = inverter.phases.phase.add(
                phase=number,
                act_pwr=self._ac_sign * power,
                react_pwr=reactive,
                apparent_pwr=math.hypot(power, reactive),
            )
            if details:
                phase.volt, phase.amp = volt, phase.apparent_pwr / volt
                inverter.grid_phases.phase.add(
                    phase=number, volt=volt + 0.3, frequency=frequency, amp=0.0, act_pwr=0.0
                )
        for number, share in enumerate(_OCEAN2_STRING_SHARES, start=1):
            power = flows["solar"] * share
            string = inverter.pv_strings.pv.add(number=number, pwr=power)
            if details:
                string.volt = 360.0 + 20 * share if power else 0.0
                string.amp = power / string.volt if string.volt else 0.0
        return inverter

    def _summary(self, flows: dict[str, float]) -> pb.Ocean2Summary:
        soc = round(flows["soc"])
        remaining = round(soc / 100 * _PACK_WH * len(self.packs))
        output = flows["solar"] - flows["battery"]
        return pb.Ocean2Summary(
            solar_power=flows["solar"],
            inverter_power=abs(output),
            inverter_power_signed=-output,
            feed_in_limit=10000.0,
            battery_remaining_energy=remaining,
            soc=soc,
            battery_remaining_energy_copy=remaining,
            battery_power_discharging=-flows["battery"],
        )

    def _pack(self, slot: int, flows: dict[str, float], hours: float) -> pb.bpStaReport:
        """A module's report, numbered as a PowerOcean pack's."""
        heat = abs(flows["battery"] / len(self.packs)) / 200
        return self._battery(
            slot,
            flows,
            bpSoh=100,
            bpRealSoh=100.0,
            bpTemp=[24.0 + slot, 23.5 + slot, 23.0 + slot, 23.5 + slot, 24.5 + slot],
            bpMaxCellTemp=24.5 + slot,
            bpMinCellTemp=23.0 + slot,
            bpMaxMosTemp=30.0 + heat,
            bpMinMosTemp=28.0 + heat,
            bpCycles=6 + slot,
            bpDesignCap=314_000,
            bpFullCap=313_886,
            bpAccuChgCap=int(2_097_579 + 12_000 * hours),
            bpAccuDsgCap=int(2_075_417 + 11_000 * hours),
            bpAccuChgEnergy=int(35_466 + 190 * hours),
            bpAccuDsgEnergy=int(33_879 + 175 * hours),
            bpEcloundSoc=65535,
        )


@dataclass(frozen=True)
class SimulatedModel:
    """A model ``simulate powerocean --model`` runs: how to make it for a serial, and the
    serial it has unless it is given one."""

    make: Callable[[str], PowerOceanModel]
    serial: str


#: The simulated models, by the name ``simulate powerocean --model`` takes.
MODELS: dict[str, SimulatedModel] = {
    "plus": SimulatedModel(lambda serial: PowerOceanModel(), "R371ZD1AZH000001"),
    "dc-fit": SimulatedModel(lambda serial: DcFitModel(), "R371ZD1AZH000001"),
    "ocean2": SimulatedModel(Ocean2Model, "RE11ZD1AZH000001"),
}


def quota_stream(mapping: PowerOceanMapping, messages: Mapping[str, Message]) -> list[bytes]:
    """The Open API's MQTT quota messages of ``messages``: one per command, as
    ``{"cmdFunc", "cmdId", "param"}`` JSON."""
    layout = mapping.open_api
    params: dict[tuple[int, int], dict[str, Any]] = {}
    packs = []
    for (command, pack), values in quota_maps(mapping, messages).items():
        if pack:
            packs.append({layout.pack_serial: base64.b64encode(pack.encode()).decode(), **values})
        elif command in layout.stream_commands:
            param = params[command] = {}
            for key, value in values.items():
                _unflatten(param, key.removeprefix(layout.stream_commands[command]), value)
    if packs:
        params[layout.pack_command] = {layout.pack_list: packs}
    return [
        json.dumps({"cmdFunc": func, "cmdId": cmd, "param": param}).encode()
        for (func, cmd), param in params.items()
    ]


def quota_maps(
    mapping: PowerOceanMapping, messages: Mapping[str, Message]
) -> dict[tuple[tuple[int, int], str], dict[str, Any]]:
    """Quota key -> value of ``messages``, by command and pack serial ("" for the system).
    A message is read with the quota channels of the route named after its schema: the Open
    API shows 96/16 and 96/17 as 96/8, all under ``ems_change_report.``."""
    maps: dict[tuple[tuple[int, int], str], dict[str, Any]] = {}
    for message in messages.values():
        route = mapping.routes.get(type(message).DESCRIPTOR.name)
        if route is None or route.model:
            continue
        paths = {
            c.location.quota: c.location.path
            for c in mapping.channels
            if c.location.message == route.name and c.location.quota and not c.variant
        }
        for entry in getattr(message, route.entries) if route.entries else [message]:
            fields = decode_message(entry).fields
            found = {
                key: list(value) if isinstance(value, tuple) else value
                for key, path in paths.items()
                if (value := fields.get(path)) is not None
            }
            if found:
                pack = route.entry_name(fields) if route.entry_label else ""
                maps.setdefault((route.command, pack), {}).update(found)
    return maps


def _unflatten(target: dict[str, Any], key: str, value: Any) -> None:
    """Put ``value`` at a quota key (``a.b``, ``a[0].b``) inside nested dicts and lists."""
    steps = [
        int(s) if s.isdigit() else s for s in key.replace("]", "").replace("[", ".").split(".")
    ]
    node: Any = target
    for step, following in itertools.pairwise([*steps, None]):
        if isinstance(step, int):
            node.extend([None] * (step + 1 - len(node)))
        if following is None:
            node[step] = value
        elif (node[step] if isinstance(step, int) else node.get(step)) is None:
            node[step] = [] if isinstance(following, int) else {}
        node = node[step]


class PowerOceanPublisher:
    """Publishes a ``PowerOceanModel`` for one serial; answers get-all requests. With
    ``open_api_account`` it publishes as the Open API does: JSON quota messages on
    ``/open/<account>/<serial>/quota``."""

    def __init__(
        self,
        broker_url: str,
        serial: str,
        *,
        interval: float = 2.0,
        model: PowerOceanModel | None = None,
        open_api_account: str | None = None,
    ) -> None:
        self.serial = serial
        self.interval = interval
        self.model = model or PowerOceanModel()
        self._mapping = load_powerocean_mapping()
        self._account = open_api_account
        self._url = urlsplit(broker_url)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"powerocean-simulator-{serial}"
        )
        if self._url.scheme == "mqtts":
            self._client.tls_set()
        if self._url.username:
            self._client.username_pw_set(self._url.username, self._url.password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._stop = threading.Event()
        self._week_wanted = threading.Event()  # connected, or a get-all arrived
        self._threads = (
            threading.Thread(target=self._run, name="powerocean-simulator", daemon=True),
            threading.Thread(
                target=self._push_statistics, name="powerocean-simulator-statistics", daemon=True
            ),
        )

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    @property
    def topic(self) -> str:
        if self._account:
            return f"/open/{self._account}/{self.serial}/quota"
        return f"/app/device/property/{self.serial}"

    def payload(self, messages: dict[str, Message]) -> bytes:
        routes = self._mapping.routes
        return build_payload(self.serial, [(*routes[n].command, m) for n, m in messages.items()])

    def publish(self, messages: dict[str, Message]) -> None:
        payloads = (
            quota_stream(self._mapping, messages) if self._account else [self.payload(messages)]
        )
        for payload in payloads:
            self._client.publish(self.topic, payload, qos=1)

    def start(self) -> None:
        port = self._url.port or (8883 if self._url.scheme == "mqtts" else 1883)
        self._client.connect_async(self._url.hostname or "127.0.0.1", port, keepalive=30)
        self._client.loop_start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._client.disconnect()
        self._client.loop_stop()

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.interval):
            if self._client.is_connected():
                self.publish(self.model.update(time.time(), tick))
                tick += 1

    def _push_statistics(self) -> None:
        """Push the model's 254/32 statistics as the device does, one energy type of one day
        a push: after a connect or a get-all today's, then the older days of the week, one
        push a second; then today's every ``_STATISTICS_SECONDS``. The Open API streams none."""
        types = list(self.model.energy_types)
        if self._account or not types:
            return
        seq = itertools.count(1)
        week: list[tuple[int, int]] = []  # (days back, energy type) still to push
        quiet = 0  # seconds since the last push
        while not self._stop.wait(1.0):
            if not self._client.is_connected():
                continue
            if self._week_wanted.is_set():
                self._week_wanted.clear()
                week = [(back, t) for back in range(_WEEK_DAYS) for t in types]
            quiet += 1
            if week:
                due = [week.pop(0)]
            elif quiet >= _STATISTICS_SECONDS:
                due = [(0, t) for t in types]
            else:
                continue
            now = time.time()
            today = int(now) // _DEVICE_DAY * _DEVICE_DAY
            for back, energy_type in due:
                item = self.model.energy_item(energy_type, today - back * _DEVICE_DAY, now)
                report = pb.EnergyTotalReport(watth_seq=next(seq), watth_item=[item])
                self.publish({"ENERGY_TOTAL_REPORT": report})
            quiet = 0

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("simulator: broker refused the connection: %s", reason_code)
            return
        client.subscribe(f"/app/+/{self.serial}/thing/property/#", qos=1)
        self._week_wanted.set()

    def _on_message(self, client: mqtt.Client, userdata, message: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        # The cloud answers on the request's topic + "_reply". The app's latestQuotas asks in
        # JSON for what the stream sends anyway: only the protobuf get-all gets everything.
        if not message.topic.endswith("/thing/property/get"):
            return
        reply = f"{message.topic}_reply"
        if message.payload.startswith(b"{"):
            client.publish(reply, b'{"code":"0","message":"Success","data":{"quotaMap":{}}}', qos=1)
        else:
            client.publish(reply, self.payload(self.model.messages(time.time())), qos=1)
            self._week_wanted.set()

"""PowerOcean messages with values as a captured system sends them, and raw protobuf bytes."""

from __future__ import annotations

import struct

from google.protobuf.message import Message

from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import xor

SERIAL = "R371ZTEST0000001"
TOPIC = f"/app/device/property/{SERIAL}"


def varint(value: int) -> bytes:
    """``value`` as a protobuf varint (a negative one as its 64-bit two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    """The key of field ``number`` sent with ``wire_type``."""
    return varint(number << 3 | wire_type)


def frame_of(cmd_func: int, cmd_id: int, pdata: bytes, serial: str = SERIAL) -> bytes:
    """A payload of one frame of ``serial`` holding ``pdata`` as it is."""
    header = pb.Header(pdata=pdata, cmd_func=cmd_func, cmd_id=cmd_id, module_sn=serial)
    return pb.HeaderMessage(header=[header]).SerializeToString()


def xor_encoded(payload: bytes, seq: int) -> bytes:
    """``payload`` as firmware encodes it: every header carries ``seq`` and ``enc_type=1``,
    every pdata is XOR-encoded with ``seq & 0xFF``; ``seq`` must fit in an int32."""
    envelope = pb.HeaderMessage.FromString(payload)
    for header in envelope.header:
        header.enc_type, header.seq = 1, seq
        header.pdata = xor(header.pdata, seq)
    return envelope.SerializeToString()


def energy_stream() -> pb.JTS1_ENERGY_STREAM_REPORT:
    return pb.JTS1_ENERGY_STREAM_REPORT(
        sysLoadPwr=390.0,
        sysGridPwr=-3770.0,
        mpptPwr=4160.0,
        bpPwr=-120.5,
        bpSoc=87,
        pv1_pwr=2180.0,
        pv2_pwr=1090.0,
        pv3_pwr=880.0,
    )


def heartbeat() -> pb.JTS1_EMS_HEARTBEAT:
    phase = pb.pcsPhase(volt=237.25, amp=5.5, actPwr=-1221.5, reactPwr=166.25, apparentPwr=1232.75)
    return pb.JTS1_EMS_HEARTBEAT(
        bpRemainWatth=7300.0,
        pcs_act_pwr=-3725.0,
        pcsAcFreq=49.990234375,
        pcsAPhase=phase,
        pcsBPhase=phase,
        pcsCPhase=phase,
        mpptHeartBeat=[
            pb.mpptHeartBeat(
                mpptPv=[
                    pb.mpptPv(vol=494.5, amp=4.25, pwr=2156.0, lightSta=1),
                    pb.mpptPv(vol=494.75, amp=2.125, pwr=1070.0, lightSta=1),
                    pb.mpptPv(vol=393.0, amp=2.25, pwr=883.0, lightSta=0),
                ],
                mpptInsResist=406.5,
                mpptTempVal=[57.5, 57.25, 55.5],
            )
        ],
    )


def change_report() -> pb.JTS1_EMS_CHANGE_REPORT:
    return pb.JTS1_EMS_CHANGE_REPORT(
        ems_work_mode=42,  # not a known mode: must survive
        bpSoc=87,
        bpTotalChgEnergy=1_234_567,
        bpTotalDsgEnergy=1_111_111,
        pcs_run_sta=1,
    )


def battery_report(packs: int = 2, cells: int = 16) -> pb.JTS1_BP_STA_REPORT:
    return pb.JTS1_BP_STA_REPORT(
        bpSta=[
            pb.bpStaReport(
                bpPwr=-512.5,
                bpSoc=87,
                bpSoh=100,
                bpTemp=[21.0, 22.0, 21.5, 22.5],
                bpMaxCellVol=3312.0,
                bpMinCellVol=3301.0,
                bpVol=52.75,
                bpAmp=-9.75,
                bpCellVol=[3300.0 + cell for cell in range(cells)],
                bpDsrc=pack + 1,
                bpSn=f"HJ32ZDH4ZF{pack:06d}".encode(),
                bpCycles=58,
                bpEcloundSoc=65535,
                bpAccuChgEnergy=295_209,
                bpCycleSoh=99.5,
                bpSysState=2,
            )
            for pack in range(packs)
        ]
    )


#: A single-phase J327 ("Power Ocean 2 Single Phase"), as its public capture shows it.
J327_SERIAL = "J327ZTEST0000001"
#: Header product ids: the EMS (product type 86, detail 1) and the IoT module (83/4).
J327_EMS, J327_IOT = 0x5601, 0x5304


def j327_payload(day: int) -> bytes:
    """A J327's push: 96/1 with phase A only (B and C present but empty), 96/8 with only
    its IEEE 2030.5 fields, 254/32 statistics for ``day``, and three commands no peer
    names (53/14, 241/36, 96/26), with the headers' sources and product ids."""
    beat = pb.JTS1_EMS_HEARTBEAT(
        pcsAPhase=pb.pcsPhase(
            volt=244.75, amp=5.75, actPwr=1353.5, reactPwr=4.875, apparentPwr=1401.0
        )
    )
    beat.pcsBPhase.SetInParent()
    beat.pcsCPhase.SetInParent()
    change = pb.JTS1_EMS_CHANGE_REPORT(ieee20305_connect_stat=1, ieee20305_ctrl_stat=1)
    statistics = pb.EnergyTotalReport(
        watth_seq=94,
        watth_item=[pb.EnergyItem(timestamp=day, watth_type=1, watth=[0] * 7 + [380, 1960])],
    )
    frames = [
        (96, 96, 1, J327_EMS, beat.SerializeToString()),
        (96, 96, 8, J327_EMS, change.SerializeToString()),
        (96, 254, 32, J327_EMS, statistics.SerializeToString()),
        (53, 53, 14, J327_IOT, tag(2, 0) + varint(142_869_520)),
        (96, 241, 36, J327_EMS, tag(1, 0) + varint(213)),
        (96, 96, 26, J327_EMS, tag(1, 0) + varint(1)),
    ]
    headers = [
        pb.Header(
            pdata=pdata,
            src=src,
            dest=32,
            cmd_func=cmd_func,
            cmd_id=cmd_id,
            product_id=product_id,
            need_ack=1,
            module_sn=J327_SERIAL,
        )
        for src, cmd_func, cmd_id, product_id, pdata in frames
    ]
    return pb.HeaderMessage(header=headers).SerializeToString()


def raw_float(number: int, value: float) -> bytes:
    """Field ``number`` holding ``value`` as a float32, as the schema may not name it."""
    return tag(number, 5) + struct.pack("<f", value)


def raw_message(number: int, body: bytes) -> bytes:
    """Field ``number`` holding the message ``body``, as the schema may not name it."""
    return tag(number, 2) + varint(len(body)) + body


#: An Ocean 2 (RE11: three-phase), as its public captures show it.
OCEAN2_SERIAL = "RE11ZTEST0000001"
#: Its battery modules (RE12: 5S, 5 kWh).
OCEAN2_MODULES = ("RE12ZTEST0000001", "RE12ZTEST0000002")
OCEAN2_TELEMETRY, OCEAN2_MODULE = 39, 46


def ocean2_payload(serial: str, *frames: tuple[int, Message]) -> bytes:
    """An Ocean 2's push: a header per ``(cmd_id, message)`` on cmd_func 254, framed as
    its firmware frames them: from the EMS (src 96) with product id 254 and the serial in
    fields 24, 25 and 26; 254/39 in version 4 asking for an ack, 254/46 in version 3."""
    headers = [
        pb.Header(
            pdata=message.SerializeToString(),
            src=96,
            dest=32,
            cmd_func=254,
            cmd_id=cmd_id,
            product_id=254,
            version=4 if cmd_id == OCEAN2_TELEMETRY else 3,
            need_ack=int(cmd_id == OCEAN2_TELEMETRY),
            module_sn=serial,
            device_sn=serial,
            module_sn_copy=serial,
        )
        for cmd_id, message in frames
    ]
    return pb.HeaderMessage(header=headers).SerializeToString()


def ocean2_flow(**values: float) -> pb.Ocean2EnergyFlow:
    """A flow block; field 6, which no peer names, equals the solar power."""
    flow = pb.Ocean2EnergyFlow(**values)
    flow.MergeFromString(raw_float(6, values.get("solar_power", 0.0)))
    return flow


def ocean2_full_telemetry(ac_power: float = 4267.125) -> pb.Ocean2Telemetry:
    """A get-all answer's 254/39, every field present, zeros and placeholders included, as
    a single-phase unit captured while it fed 4570 W from its battery into the house:
    ``ac_power`` with the sign of the unit's firmware (RE11, RE17, RE41: positive while
    feeding AC out)."""
    sign = 1.0 if ac_power >= 0 else -1.0
    inverter = pb.Ocean2Inverter(ac_power=ac_power, frequency=49.90625, grid_meter_power=2.0)
    inverter.phases.phase.add(volt=0.0, act_pwr=0.0, react_pwr=0.0, apparent_pwr=0.0)
    inverter.phases.phase.add(
        phase=1,
        volt=241.75,
        amp=17.875,
        act_pwr=sign * 4296.5,
        react_pwr=265.25,
        apparent_pwr=4304.5,
    )
    for phase in (2, 3):
        inverter.phases.phase.add(
            phase=phase, volt=0.0, amp=0.0, act_pwr=0.0, react_pwr=0.0, apparent_pwr=0.0
        )
    inverter.grid_phases.phase.add(volt=0.0, frequency=0.0, act_pwr=0.0)
    inverter.grid_phases.phase.add(
        phase=1, volt=241.625, amp=2.375, frequency=49.90625, act_pwr=-29.25
    )
    for phase in (2, 3):
        inverter.grid_phases.phase.add(phase=phase, volt=0.0, amp=0.0, frequency=0.0, act_pwr=0.0)
    inverter.pv_strings.pv.add(volt=0.0)
    for number, volt in ((1, 34.0), (2, 28.75), (3, 31.5)):
        inverter.pv_strings.pv.add(number=number, volt=volt, amp=0.0, pwr=0.0)
    inverter.MergeFromString(raw_float(5, 791.75))  # no peer names 4.5
    flow = {"home_power": 4570.0, "grid_power": 0.0, "solar_power": 0.0, "battery_power": -4570.0}
    telemetry = pb.Ocean2Telemetry(
        inverter=inverter,
        energy_flow=ocean2_flow(**flow, battery_soc=81),
        energy_flow_lagging=ocean2_flow(**flow, battery_soc=81),
        summary=pb.Ocean2Summary(
            solar_power=0.0,
            inverter_power=4281.0,
            inverter_power_signed=-4319.0,
            feed_in_limit=10000.0,
            battery_remaining_energy=12255,
            soc=81,
            battery_remaining_energy_copy=12255,
            battery_power_discharging=4580.0,
        ),
    )
    telemetry.MergeFromString(raw_message(64, raw_float(1, 7489.0) + raw_float(2, 10821.25)))
    return telemetry


def ocean2_inverter_delta() -> pb.Ocean2Telemetry:
    """A three-phase unit's 254/39 mid-session (solar 1130 W into the house): the phases'
    and strings' power, not their voltage and current, which did not change."""
    inverter = pb.Ocean2Inverter(ac_power=1069.0, grid_meter_power=28.375)
    for phase, power, reactive, apparent in (
        (1, 342.5, 101.75, 357.25),
        (2, 348.0, 90.375, 359.5),
        (3, 357.75, 91.875, 369.5),
    ):
        inverter.phases.phase.add(
            phase=phase, act_pwr=power, react_pwr=reactive, apparent_pwr=apparent
        )
    inverter.pv_strings.pv.add(number=1, pwr=550.25)
    inverter.pv_strings.pv.add(number=2, pwr=609.75)
    flow = ocean2_flow(home_power=1130.0, solar_power=1130.0)
    return pb.Ocean2Telemetry(inverter=inverter, energy_flow=flow, energy_flow_lagging=flow)


def ocean2_phase_delta() -> pb.Ocean2Telemetry:
    """A 254/39 with two of three phases, power only, and one string's voltage only."""
    inverter = pb.Ocean2Inverter()
    inverter.phases.phase.add(phase=1, act_pwr=51.0, react_pwr=106.75, apparent_pwr=118.25)
    inverter.phases.phase.add(phase=3, act_pwr=57.0, react_pwr=104.5)
    inverter.pv_strings.pv.add(number=2, volt=105.25)
    return pb.Ocean2Telemetry(inverter=inverter)


def ocean2_both_flow_blocks() -> pb.Ocean2Telemetry:
    """A 254/39 carrying both flow blocks, block 7 one cycle behind and without the house
    load (PV 2570 - battery 310 - export 1770 = house 490 in block 87)."""
    telemetry = pb.Ocean2Telemetry(
        inverter=pb.Ocean2Inverter(grid_meter_power=-1966.375),
        energy_flow_lagging=ocean2_flow(
            grid_power=-1800.0, solar_power=2590.0, battery_power=310.0
        ),
        energy_flow=ocean2_flow(
            home_power=490.0, grid_power=-1770.0, solar_power=2570.0, battery_power=310.0
        ),
    )
    telemetry.MergeFromString(raw_message(64, raw_float(1, 306.5) + raw_float(2, 5879.5)))
    return telemetry


def ocean2_module(serial: str, number: int, power: float = -2664.125) -> pb.Ocean2ModuleReport:
    """A battery module's 254/46, numbered as a PowerOcean pack report, as a module of a
    three-phase unit reported it while discharging; 69 and the frame's 1 and 20, which no
    peer names, raw."""
    module = pb.bpStaReport(
        bpPwr=power,
        bpSoc=47,
        bpSoh=100,
        bpTemp=[41.0, 40.0, 39.0, 38.0, 39.0],
        bpMaxCellVol=3223.0,
        bpMinCellVol=3216.0,
        bpVol=15.975,
        bpAmp=-168.875,
        bpCellVol=[3223.0, 3220.0, 3219.0, 3216.0, 3216.0],
        bpDsrc=number,
        bpSn=serial.encode(),
        bpCycles=6,
        bpAccuChgCap=2_097_579,
        bpAccuDsgCap=2_075_417,
        bpDesignCap=314_000,
        bpFullCap=313_886,
        bpMaxCellTemp=41.0,
        bpMinCellTemp=38.0,
        bpMaxMosTemp=63.0,
        bpMinMosTemp=61.0,
        bpEcloundSoc=65535,
        bpTimestamp=1_785_571_857,
        bpRealSoc=48.90625,
        bpRealSoh=100.0,
        bpRemainWatth=2409.25,
        bpAccuChgEnergy=35_466,
        bpAccuDsgEnergy=33_879,
    )
    module.MergeFromString(raw_float(69, 3221.0))
    report = pb.Ocean2ModuleReport(module=[module])
    report.MergeFromString(tag(1, 0) + varint(30) + raw_message(20, raw_float(1, 240.25)))
    return report

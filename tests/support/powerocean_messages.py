"""PowerOcean messages with values as a captured system sends them, and raw protobuf bytes."""

from __future__ import annotations

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


def frame_of(cmd_func: int, cmd_id: int, pdata: bytes) -> bytes:
    """A payload of one frame of ``SERIAL`` holding ``pdata`` as it is."""
    header = pb.Header(pdata=pdata, cmd_func=cmd_func, cmd_id=cmd_id, module_sn=SERIAL)
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

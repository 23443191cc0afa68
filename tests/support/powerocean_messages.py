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

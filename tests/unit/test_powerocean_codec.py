import json
import random
import struct

import pytest
from google.protobuf.message import Message

from exporter.powerocean.codec import (
    MAX_PAYLOAD_BYTES,
    DecodeError,
    Frame,
    Report,
    SplitResult,
    build_energy_stream_keepalive,
    build_get_all_request,
    build_payload,
    decode_frame,
    decode_payload,
    raw_fields,
    split_payload,
    varint,
    xor,
)
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.schema import SystemModels, load_powerocean_mapping
from exporter.simulate.powerocean import DcFitModel, PowerOceanModel

MAPPING = load_powerocean_mapping()


def decode(payload: bytes):
    return decode_payload(payload, MAPPING, SystemModels(MAPPING.models))


SERIAL = "R371ZTEST0000001"
TOPIC = f"/app/device/property/{SERIAL}"


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


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


MESSAGES: list[tuple[int, int, Message]] = [
    (96, 33, energy_stream()),
    (96, 1, heartbeat()),
    (96, 8, change_report()),
    (96, 7, battery_report()),
    (96, 97, pb.EnergyStreamSwitch(ems_open_energy_stream=True)),
]


@pytest.mark.parametrize(("cmd_func", "cmd_id", "message"), MESSAGES)
def test_round_trip_each_message(cmd_func: int, cmd_id: int, message: Message) -> None:
    result = split_payload(build_payload(SERIAL, [(cmd_func, cmd_id, message)]), TOPIC)

    assert result.skipped == []
    [frame] = result.frames
    assert (frame.serial, frame.cmd_func, frame.cmd_id) == (SERIAL, cmd_func, cmd_id)
    assert (frame.header.src, frame.header.dest) == (2, 32)
    assert type(message).FromString(frame.pdata) == message


def test_round_trip_values() -> None:
    payload = build_payload(SERIAL, [(96, 33, energy_stream()), (96, 1, heartbeat())])
    stream, beat = split_payload(payload, None).frames

    report = pb.JTS1_ENERGY_STREAM_REPORT.FromString(stream.pdata)
    assert (report.sysLoadPwr, report.sysGridPwr, report.mpptPwr) == (390.0, -3770.0, 4160.0)
    assert report.bpSoc == 87
    hb = pb.JTS1_EMS_HEARTBEAT.FromString(beat.pdata)
    assert hb.pcsAPhase.volt == pytest.approx(237.25)
    assert hb.pcsCPhase.reactPwr == pytest.approx(166.25)
    assert [pv.pwr for pv in hb.mpptHeartBeat[0].mpptPv] == [2156.0, 1070.0, 883.0]
    assert list(hb.mpptHeartBeat[0].mpptTempVal) == [57.5, 57.25, 55.5]


def test_several_headers_keep_their_order() -> None:
    result = split_payload(build_payload(SERIAL, MESSAGES), TOPIC)

    assert [(f.cmd_func, f.cmd_id) for f in result.frames] == [
        (96, 33),
        (96, 1),
        (96, 8),
        (96, 7),
        (96, 97),
    ]
    assert all(isinstance(f, Frame) for f in result.frames)


def test_battery_packs_and_sentinels() -> None:
    frame = split_payload(build_payload(SERIAL, [(96, 7, battery_report())]), None).frames[0]
    packs = pb.JTS1_BP_STA_REPORT.FromString(frame.pdata).bpSta

    assert [p.bpSn for p in packs] == [b"HJ32ZDH4ZF000000", b"HJ32ZDH4ZF000001"]
    assert len(packs[1].bpCellVol) == 16
    assert packs[0].bpEcloundSoc == 65535
    assert packs[0].bpAccuChgEnergy == 295_209


@pytest.mark.parametrize("seq", [0x1234_5678, 0x100, 1, -5])
def test_xor_frames_decode(seq: int) -> None:
    payload = build_payload(SERIAL, [(96, 33, energy_stream())], xor_seq=seq)
    [frame] = split_payload(payload, None).frames

    plain = energy_stream().SerializeToString()
    assert (frame.header.enc_type, frame.header.seq) == (1, seq)
    assert frame.header.pdata == bytes(b ^ (seq & 0xFF) for b in plain)
    assert frame.pdata == plain


def test_xor_is_not_applied_to_app_frames() -> None:
    pdata = energy_stream().SerializeToString()
    header = pb.Header(pdata=pdata, src=32, enc_type=1, seq=0x55, device_sn=SERIAL)
    payload = pb.HeaderMessage(header=[header]).SerializeToString()

    assert split_payload(payload, None).frames[0].pdata == pdata


def test_xor() -> None:
    assert xor(b"\x00\x01\xff", 0x0F) == b"\x0f\x0e\xf0"
    assert xor(b"\x00\x01\xff", 0x10F) == b"\x0f\x0e\xf0"  # only the low byte counts
    assert xor(xor(b"abc", 200), 200) == b"abc"
    assert xor(b"", 7) == b""


def payload_of(*headers: pb.Header) -> bytes:
    return pb.HeaderMessage(header=list(headers)).SerializeToString()


def test_serial_from_module_sn_first() -> None:
    payload = payload_of(pb.Header(cmd_func=96, cmd_id=1, module_sn="MOD", device_sn="DEV"))
    assert split_payload(payload, "/app/device/property/TOPIC").frames[0].serial == "MOD"


def test_serial_from_device_sn() -> None:
    payload = payload_of(pb.Header(cmd_func=96, cmd_id=1, device_sn="DEV"))
    assert split_payload(payload, "/app/device/property/TOPIC").frames[0].serial == "DEV"


@pytest.mark.parametrize(
    ("topic", "serial"),
    [
        ("/app/device/property/R374ABC", "R374ABC"),
        ("/app/device/property/R374ABC/", "R374ABC"),
        ("other/topic/R374XYZ", "R374XYZ"),
        ("R374ONLY", "R374ONLY"),
    ],
)
def test_serial_from_topic(topic: str, serial: str) -> None:
    payload = build_payload("", [(96, 33, energy_stream())])
    assert split_payload(payload, topic).frames[0].serial == serial


@pytest.mark.parametrize("topic", [None, "", "///"])
def test_no_serial_anywhere(topic: str | None) -> None:
    payload = build_payload("", [(96, 33, energy_stream())])
    with pytest.raises(DecodeError) as error:
        split_payload(payload, topic)
    assert error.value.reason == "no_serial"


def test_headers_without_serial_or_fields_are_skipped() -> None:
    payload = payload_of(
        pb.Header(cmd_func=96, cmd_id=33),
        pb.Header(),
        pb.Header(cmd_func=96, cmd_id=1, module_sn=SERIAL),
    )
    result = split_payload(payload, None)

    assert isinstance(result, SplitResult)
    assert result.skipped == ["no_serial", "blank_header"]
    assert [(f.serial, f.cmd_id) for f in result.frames] == [(SERIAL, 1)]


def reason_of(payload: bytes, topic: str | None = TOPIC) -> str:
    with pytest.raises(DecodeError) as error:
        split_payload(payload, topic)
    return error.value.reason


def test_json_payload() -> None:
    payload = json.dumps({"params": {"sysLoadPwr": 390}, "cmdId": 33}).encode()
    assert reason_of(payload) == "not_protobuf"


def test_random_garbage() -> None:
    assert reason_of(random.Random(20240601).randbytes(2000)) == "not_protobuf"


def test_truncated_payload() -> None:
    payload = build_payload(SERIAL, [(96, 33, energy_stream()), (96, 1, heartbeat())])
    assert reason_of(payload[:-7]) == "truncated"
    assert reason_of(payload[:1]) == "truncated"


def test_too_large_payload() -> None:
    assert reason_of(b"\x00" * 10_000_000) == "too_large"
    assert reason_of(b"\x00" * (MAX_PAYLOAD_BYTES + 1)) == "too_large"


def test_empty_and_blank_payloads() -> None:
    assert reason_of(b"") == "empty"
    assert reason_of(payload_of(pb.Header())) == "not_protobuf"


def test_only_decode_error_escapes() -> None:
    rng = random.Random(7)
    valid = build_payload(SERIAL, MESSAGES, xor_seq=99)
    for _ in range(3000):
        if rng.random() < 0.5:
            payload = rng.randbytes(rng.randrange(0, 300))
        else:
            mutated = bytearray(valid)
            for _ in range(rng.randrange(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            payload = bytes(mutated)
        try:
            result = split_payload(payload, rng.choice([None, TOPIC]))
        except DecodeError as error:
            assert error.reason in {"not_protobuf", "truncated", "empty", "no_serial"}
        else:
            assert result.frames


def test_non_bytes_payload_is_a_decode_error() -> None:
    assert reason_of("text, not bytes") == "not_protobuf"  # type: ignore[arg-type]


def test_bytearray_and_memoryview_payloads() -> None:
    payload = build_payload(SERIAL, [(96, 33, energy_stream())])
    assert split_payload(bytearray(payload), None).frames[0].serial == SERIAL
    assert split_payload(memoryview(payload), None).frames[0].serial == SERIAL


def frame_of(cmd_func: int, cmd_id: int, pdata: bytes) -> bytes:
    header = pb.Header(pdata=pdata, cmd_func=cmd_func, cmd_id=cmd_id, module_sn=SERIAL)
    return pb.HeaderMessage(header=[header]).SerializeToString()


def test_a_bad_inner_message_is_a_frame_error() -> None:
    [decoded], _ = decode(frame_of(96, 33, b"\x0d\x00\x00"))  # fixed32 cut
    assert (decoded.error, decoded.reports) == ("bad_message", [])


def test_a_report_holds_only_what_was_sent_zeros_included() -> None:
    report = Report.of(pb.JTS1_EMS_CHANGE_REPORT(pcs_run_sta=0, emsFeedPwr=30000))
    assert report.fields == {("pcs_run_sta",): 0, ("emsFeedPwr",): 30000}


def test_a_report_flattens_nested_and_repeated_messages() -> None:
    report = Report.of(heartbeat())
    assert report.fields[("pcsBPhase", "volt")] == pytest.approx(237.25)
    assert report.fields[("mpptHeartBeat", 0, "mpptPv", 2, "pwr")] == 883.0
    assert report.fields[("mpptHeartBeat", 0, "mpptTempVal")] == (57.5, 57.25, 55.5)
    assert report.lists == (("mpptHeartBeat",), ("mpptHeartBeat", 0, "mpptPv"))


def test_a_float_field_sent_as_varint_is_kept() -> None:
    raw = (
        tag(1, 0) + varint(390) + tag(2, 0) + varint(-3770) + tag(3, 5) + struct.pack("<f", 4160.0)
    )
    report = Report.of(pb.JTS1_ENERGY_STREAM_REPORT.FromString(raw))
    assert report.fields == {("sysLoadPwr",): 390, ("sysGridPwr",): -3770, ("mpptPwr",): 4160.0}


def test_an_int_field_sent_as_float_is_kept() -> None:
    raw = tag(5, 5) + struct.pack("<f", 87.5) + tag(6, 1) + struct.pack("<d", 1.25)
    report = Report.of(pb.JTS1_ENERGY_STREAM_REPORT.FromString(raw))
    assert report.fields == {("bpSoc",): 87.5, ("pv1_pwr",): 1.25}


def test_other_wire_types_inside_a_battery_pack() -> None:
    pack = tag(6, 0) + varint(3312) + tag(7, 5) + struct.pack("<f", 3301.0) + tag(2, 0) + varint(87)
    payload = frame_of(96, 7, tag(1, 2) + varint(len(pack)) + pack + tag(15, 0) + varint(0))
    [decoded], _ = decode(payload)
    assert decoded.reports == []  # no serial and no slot: an empty placeholder entry
    pack += tag(15, 0) + varint(2)
    [decoded], _ = decode(frame_of(96, 7, tag(1, 2) + varint(len(pack)) + pack))
    [(name, report)] = decoded.reports
    assert name == "2"
    assert report.fields == {
        ("bpMaxCellVol",): 3312,
        ("bpMinCellVol",): 3301.0,
        ("bpSoc",): 87,
        ("bpDsrc",): 2,
    }


def test_unknown_field_numbers_are_kept_raw() -> None:
    raw = tag(21, 0) + varint(1) + tag(700, 0) + varint(5) + tag(701, 2) + varint(2) + b"ok"
    report = Report.of(pb.JTS1_EMS_CHANGE_REPORT.FromString(raw))
    assert report.fields == {("pcs_run_sta",): 1}
    assert report.unknown == {("#700",): 5, ("#701",): "ok"}


def test_raw_fields_of_an_unknown_message() -> None:
    inner = tag(1, 0) + varint(7) + tag(2, 5) + struct.pack("<f", 1.5)
    data = tag(1, 2) + varint(len(inner)) + inner + tag(3, 0) + varint(4) + tag(3, 0) + varint(5)
    assert raw_fields(data) == {"1": {"1": 7, "2": 1.5}, "3": [4, 5]}
    assert raw_fields(b"\xff") is None


def test_entries_are_named_by_their_key() -> None:
    modules = pb.ModuleClusterInfo(
        module=[pb.ModuleInfo(addr=96, app_ver=1), pb.ModuleInfo(addr=4), pb.ModuleInfo()]
    )
    [decoded], _ = decode(build_payload(SERIAL, [(53, 113, modules)]))
    assert [name for name, _ in decoded.reports] == ["ems", "4"]


def test_packed_and_unpacked_repeated_floats() -> None:
    cells = [3301.0, 3302.5, 3310.0]
    packed_body = b"".join(struct.pack("<f", cell) for cell in cells)
    packed = tag(14, 2) + varint(len(packed_body)) + packed_body
    unpacked = b"".join(tag(14, 5) + struct.pack("<f", cell) for cell in cells)

    assert list(pb.bpStaReport.FromString(packed).bpCellVol) == cells
    assert list(pb.bpStaReport.FromString(unpacked).bpCellVol) == cells


def test_bp_sn_with_invalid_utf8() -> None:
    serial = b"HJ32\xff\xfe\xc3("
    entry = tag(16, 2) + varint(len(serial)) + serial + tag(15, 0) + varint(2)
    payload = frame_of(96, 7, tag(1, 2) + varint(len(entry)) + entry)
    [decoded], _ = decode(payload)
    [(name, _)] = decoded.reports
    assert name == "HJ32\ufffd\ufffd\ufffd("


def test_keepalive_frame() -> None:
    payload = build_energy_stream_keepalive(1_700_000_000_123)
    [header] = pb.HeaderMessage.FromString(payload).header

    assert b"\x0a\x02\x08\x01" in payload  # pdata = EnergyStreamSwitch{true}
    assert header.pdata == b"\x08\x01"
    assert (header.src, header.dest, header.d_src, header.d_dest) == (32, 96, 1, 1)
    assert (header.cmd_func, header.cmd_id, header.need_ack) == (96, 97, 1)
    assert (header.version, header.payload_ver) == (3, 1)
    assert header.seq == 1_700_000_000_123 & 0x7FFFFFFF
    assert getattr(header, "from") == "ios"
    assert pb.EnergyStreamSwitch.FromString(header.pdata).ems_open_energy_stream


def test_get_all_request() -> None:
    [header] = pb.HeaderMessage.FromString(build_get_all_request(1_700_000_000_123)).header

    assert (header.src, header.dest) == (32, 32)
    assert header.seq == 1_700_000_000_123 & 0x7FFFFFFF
    assert getattr(header, "from") == "ios"
    assert header.pdata == b""
    assert (header.cmd_func, header.cmd_id) == (0, 0)


# -- merging reports --------------------------------------------------------------------


def merged_by_paths(kept: Report, newer: Report) -> dict:
    """The merge field path by field path, as reports without a message (the Open API's)
    are merged: what a merge of messages must give."""
    return Report(dict(kept.fields)).updated_by(Report(dict(newer.fields), newer.lists)).fields


def merged_as_messages(kept: Report, newer: Report) -> Report:
    merged = kept.updated_by(newer)
    assert merged.message is not None, "reports merge as messages"
    assert merged.fields == merged_by_paths(kept, newer)
    return merged


@pytest.mark.parametrize("model", [PowerOceanModel, DcFitModel])
def test_simulated_updates_merge_as_messages_to_what_paths_give(model) -> None:
    system = model(packs=["HJ32ZDH4ZF000001", "HJ32ZDH4ZF000002"], epoch=0)
    kept = {kind: Report.of(message) for kind, message in system.messages(1000.0).items()}
    for tick in range(1, 10):
        for kind, message in system.update(1000.0 + 2 * tick, tick).items():
            kept[kind] = merged_as_messages(kept[kind], Report.of(message))


def test_a_resent_list_replaces_the_kept_one_whole() -> None:
    kept = Report.of(heartbeat())
    shorter = pb.JTS1_EMS_HEARTBEAT(
        pcsAcFreq=50.0,
        mpptHeartBeat=[pb.mpptHeartBeat(mpptPv=[pb.mpptPv(pwr=100.0)], mpptTempVal=[40.0])],
    )
    fields = merged_as_messages(kept, Report.of(shorter)).fields
    assert fields[("mpptHeartBeat", 0, "mpptPv", 0, "pwr")] == 100.0
    assert ("mpptHeartBeat", 0, "mpptPv", 0, "vol") not in fields  # not resent: gone
    assert ("mpptHeartBeat", 0, "mpptPv", 2, "pwr") not in fields
    assert fields[("mpptHeartBeat", 0, "mpptTempVal")] == (40.0,)
    assert fields[("pcsBPhase", "volt")] == 237.25  # not a list: kept
    assert fields[("pcsAcFreq",)] == 50.0


def test_lists_below_a_single_message_are_replaced_and_kept_apart() -> None:
    kept = Report.of(
        pb.ErrorChangeReport(
            ems_err_code=pb.ErrorCode(module_sn="ems", err_code=[1, 2]),
            pcs_err_code=pb.ErrorCode(err_code=[5]),
        )
    )
    newer = Report.of(pb.ErrorChangeReport(ems_err_code=pb.ErrorCode(err_code=[3])))
    fields = merged_as_messages(kept, newer).fields
    assert fields[("ems_err_code", "err_code")] == (3,)
    assert fields[("ems_err_code", "module_sn")] == "ems"
    assert fields[("pcs_err_code", "err_code")] == (5,)


def test_explicit_zeros_merge_over_kept_values() -> None:
    kept = Report.of(change_report())
    newer = Report.of(pb.JTS1_EMS_CHANGE_REPORT(bpSoc=0, pcs_run_sta=0))
    fields = merged_as_messages(kept, newer).fields
    assert (fields[("bpSoc",)], fields[("pcs_run_sta",)]) == (0, 0)
    assert fields[("bpTotalChgEnergy",)] == 1_234_567


def test_a_value_of_another_wire_type_merges_by_paths_and_a_later_one_wins() -> None:
    kept = Report.of(pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=100.0, bpSoc=50))
    as_varint = Report.of(pb.JTS1_ENERGY_STREAM_REPORT.FromString(tag(1, 0) + varint(390)))
    merged = kept.updated_by(as_varint)
    assert merged.message is None
    assert merged.fields == {("sysLoadPwr",): 390, ("bpSoc",): 50}
    later = merged.updated_by(Report.of(pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=400.0)))
    assert later.fields == {("sysLoadPwr",): 400.0, ("bpSoc",): 50}


def test_an_entry_is_named_by_its_key_as_fields_hold_it() -> None:
    [pack] = pb.JTS1_BP_STA_REPORT(bpSta=[pb.bpStaReport(bpSn=b"HJ32PACK\x00 ", bpDsrc=2)]).bpSta
    report = Report.of(pack)
    assert report.key("bpSn") == "HJ32PACK" == report.fields[("bpSn",)]
    assert report.key("bpDsrc") == 2
    assert not Report.of(pb.bpStaReport()).key("bpSn")


def test_unnamed_field_numbers_merge_as_messages_and_are_not_kept() -> None:
    unnamed = tag(200, 5) + struct.pack("<f", 860.0) + tag(22, 0) + varint(1)
    raw = heartbeat().SerializeToString() + unnamed
    kept = Report.of(pb.JTS1_EMS_HEARTBEAT.FromString(raw))
    assert kept.unknown == {("#200",): 860.0, ("#22",): 1}  # shown by decode
    for _ in range(50):
        kept = merged_as_messages(kept, Report.of(pb.JTS1_EMS_HEARTBEAT.FromString(raw)))
    assert kept.unknown == {}  # not appended report after report
    assert kept.message.ByteSize() == len(heartbeat().SerializeToString())


def test_mutated_messages_flatten_and_merge_without_raising() -> None:
    """Reports are flattened and merged when a scrape reads them, after the frame was
    taken in: nothing a frame holds may make that raise."""
    rng = random.Random(11)
    messages = PowerOceanModel(epoch=0).messages(1000.0)
    routes = {route.name: route for route in MAPPING.routes.values()}
    kept: dict[tuple[str, str], Report] = {}
    for _ in range(3000):
        name = rng.choice(list(messages))
        data = bytearray(messages[name].SerializeToString())
        for _ in range(rng.randrange(1, 6)):
            position = rng.randrange(len(data))
            if rng.random() < 0.6:
                data[position] = rng.randrange(256)
            else:
                data[position:position] = rng.randbytes(rng.randrange(1, 8))
        route = routes[name]
        frame = Frame(SERIAL, *route.command, pb.Header(), bytes(data))
        for entry, report in decode_frame(frame, route).reports:
            earlier = kept.get((name, entry))
            kept[(name, entry)] = report if earlier is None else earlier.updated_by(report)
            assert isinstance(kept[(name, entry)].fields, dict)
            assert isinstance(report.unknown, dict)

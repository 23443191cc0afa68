"""The PowerOcean wire: payloads split into frames, XOR, serials, refused input, requests."""

import json
import random

import pytest
from google.protobuf.message import Message

from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import (
    MAX_PAYLOAD_BYTES,
    DecodeError,
    Frame,
    build_energy_stream_keepalive,
    build_get_all_request,
    build_latest_quotas_request,
    split_payload,
    xor,
)
from exporter.simulate.powerocean import build_payload
from tests.support.powerocean_messages import (
    SERIAL,
    TOPIC,
    battery_report,
    change_report,
    energy_stream,
    heartbeat,
    xor_encoded,
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
    payload = xor_encoded(build_payload(SERIAL, [(96, 33, energy_stream())]), seq)
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
        ("/app/1234567/R374REPLY/thing/property/get_reply", "R374REPLY"),
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


def test_a_serial_is_not_needed_to_read_a_payload() -> None:
    payload = build_payload("", [(96, 33, energy_stream())])
    [frame] = split_payload(payload, None, need_serial=False).frames
    assert (frame.serial, frame.cmd_id) == ("", 33)


def test_headers_without_serial_or_fields_are_skipped() -> None:
    payload = payload_of(
        pb.Header(cmd_func=96, cmd_id=33),
        pb.Header(),
        pb.Header(cmd_func=96, cmd_id=1, module_sn=SERIAL),
    )
    result = split_payload(payload, None)

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
    valid = xor_encoded(build_payload(SERIAL, MESSAGES), 99)
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


def test_latest_quotas_request_is_the_apps_json() -> None:
    assert json.loads(build_latest_quotas_request(1_700_000_000_123)) == {
        "from": "Android",
        "id": "1700000000123",
        "moduleType": 0,
        "operateType": "latestQuotas",
        "params": {},
        "version": "1.0",
    }

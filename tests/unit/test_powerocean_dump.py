"""What ``ess-exporter decode`` shows of a payload: every frame named, every field present,
what the schema does not know raw by number."""

import struct

from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.dump import describe, raw_fields
from exporter.powerocean.ingest import SystemModels
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import split_payload
from exporter.simulate.powerocean import build_payload
from tests.support.powerocean_messages import (
    OCEAN2_MODULES,
    OCEAN2_SERIAL,
    SERIAL,
    battery_report,
    frame_of,
    ocean2_module,
    ocean2_payload,
    tag,
    varint,
)

MAPPING = load_powerocean_mapping()


def described(payload: bytes) -> dict:
    split = split_payload(payload, None, need_serial=False)
    models = SystemModels(MAPPING)
    return describe([models.decode(f) for f in split.frames], split.skipped, MAPPING.ignored)


def test_raw_fields_of_an_unknown_message() -> None:
    inner = tag(1, 0) + varint(7) + tag(2, 5) + struct.pack("<f", 1.5)
    data = tag(1, 2) + varint(len(inner)) + inner + tag(3, 0) + varint(4) + tag(3, 0) + varint(5)
    assert raw_fields(data) == {"1": {"1": 7, "2": 1.5}, "3": [4, 5]}
    assert raw_fields(b"\xff") is None


def test_a_message_shows_its_fields_and_unnamed_numbers_raw() -> None:
    raw = (
        tag(1, 5)
        + struct.pack("<f", 237.35)
        + tag(700, 0)
        + varint(5)
        + tag(701, 2)
        + varint(2)
        + b"ok"
    )
    phase = tag(12, 2) + varint(len(raw)) + raw
    [frame] = described(frame_of(96, 1, phase))["frames"]
    assert frame["message"] == "JTS1_EMS_HEARTBEAT"
    assert frame["fields"] == {"pcsAPhase.volt": 237.35}
    assert frame["unknown_fields"] == {"pcsAPhase.#700": 5, "pcsAPhase.#701": "ok"}


def test_entries_are_shown_by_their_label() -> None:
    [frame] = described(build_payload(SERIAL, [(96, 7, battery_report(packs=2, cells=1))]))[
        "frames"
    ]
    assert list(frame["entries"]) == ["pack=HJ32ZDH4ZF000000", "pack=HJ32ZDH4ZF000001"]
    assert frame["entries"]["pack=HJ32ZDH4ZF000001"]["fields"]["bpCellVol"] == [3300.0]


def test_unknown_and_ignored_commands_are_shown_raw() -> None:
    payload = build_payload(SERIAL, [(254, 17, pb.JTS1_EMS_CHANGE_REPORT(pcs_run_sta=3))])
    payload += build_payload(SERIAL, [(96, 9, pb.JTS1_EMS_CHANGE_REPORT())])
    unknown, ignored = described(payload)["frames"]
    assert (unknown["message"], unknown["raw"]) == ("unknown", {"21": 3})
    assert (ignored["message"], ignored["raw"]) == ("JTS1_ERROR_CODE_MASK_REPORT", {})


def test_a_header_without_serial_is_shown_and_a_blank_one_listed() -> None:
    headers = [pb.Header(cmd_func=96, cmd_id=33), pb.Header()]
    shown = described(pb.HeaderMessage(header=headers).SerializeToString())
    assert [(f["serial"], f["command"]) for f in shown["frames"]] == [("", "96/33")]
    assert shown["skipped"] == ["blank_header"]


def test_the_fields_around_the_entries_the_schema_does_not_name_are_raw() -> None:
    """An Ocean 2's 254/46: its module, and the module's 69 and the frame's 1 and 20 raw."""
    payload = ocean2_payload(OCEAN2_SERIAL, (46, ocean2_module(OCEAN2_MODULES[0], 1)))
    [frame] = described(payload)["frames"]
    [(name, module)] = frame["entries"].items()
    assert name == f"pack={OCEAN2_MODULES[0]}"
    assert module["fields"]["bpPwr"] == -2664.125
    assert module["unknown_fields"] == {"#69": 3221.0}
    assert frame["unknown_fields"] == {"#1": 30, "#20": {"1": 240.25}}


def test_a_pack_report_has_nothing_raw_around_its_packs() -> None:
    [frame] = described(frame_of(96, 7, battery_report().SerializeToString()))["frames"]
    assert "unknown_fields" not in frame


def test_a_message_that_does_not_parse_is_named_with_its_error() -> None:
    [frame] = described(frame_of(96, 1, b"\x0a\x05abc"))["frames"]  # a field past the end
    assert frame["message"] == "JTS1_EMS_HEARTBEAT"
    assert frame["error"] == "bad_message"
    assert "fields" not in frame


def test_raw_bytes_that_are_neither_a_message_nor_text_are_shown_in_hex() -> None:
    data = tag(1, 2) + varint(3) + b"\xff\xfe\x00" + tag(2, 2) + varint(3) + b"a\tb"
    assert raw_fields(data) == {"1": "fffe00", "2": "610962"}

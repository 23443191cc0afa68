"""PowerOcean frames decoded into the fields they reported, with the route of their system's
model: zeros kept, nothing invented, numbers of another wire type repaired."""

import random
import struct

import pytest

from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.codec import decode_frame, decode_message
from exporter.powerocean.ingest import SystemModels
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import Frame, split_payload
from exporter.simulate.powerocean import PowerOceanModel, build_payload
from tests.support.powerocean_messages import (
    OCEAN2_MODULE,
    OCEAN2_MODULES,
    OCEAN2_TELEMETRY,
    SERIAL,
    frame_of,
    heartbeat,
    ocean2_module,
    ocean2_payload,
    ocean2_phase_delta,
    tag,
    varint,
)

MAPPING = load_powerocean_mapping()


def decode(payload: bytes, models: SystemModels | None = None):
    """Each frame of ``payload`` decoded, as ``ess-exporter decode`` does."""
    models = models or SystemModels(MAPPING)
    return [models.decode(frame) for frame in split_payload(payload, None).frames]


def test_a_bad_inner_message_is_a_frame_error() -> None:
    [decoded] = decode(frame_of(96, 33, b"\x0d\x00\x00"))  # fixed32 cut
    assert (decoded.error, decoded.reports) == ("bad_message", [])


def test_a_command_nobody_knows_has_no_route() -> None:
    [decoded] = decode(frame_of(254, 17, b"\x08\x01"))
    assert (decoded.route, decoded.reports, decoded.error) == (None, [], None)


def test_a_report_holds_only_what_was_sent_zeros_included() -> None:
    report = decode_message(pb.JTS1_EMS_CHANGE_REPORT(pcs_run_sta=0, emsFeedPwr=30000))
    assert report.fields == {("pcs_run_sta",): 0, ("emsFeedPwr",): 30000}


def test_a_report_flattens_nested_and_repeated_messages() -> None:
    report = decode_message(heartbeat())
    assert report.fields[("pcsBPhase", "volt")] == pytest.approx(237.25)
    assert report.fields[("mpptHeartBeat", 0, "mpptPv", 2, "pwr")] == 883.0
    assert report.fields[("mpptHeartBeat", 0, "mpptTempVal")] == (57.5, 57.25, 55.5)
    assert report.lists == [("mpptHeartBeat",), ("mpptHeartBeat", 0, "mpptPv")]


def test_an_empty_submessage_reports_nothing_below_it() -> None:
    report = decode_message(pb.JTS1_EMS_HEARTBEAT(pcsAPhase=pb.pcsPhase(), pcsAcFreq=50.0))
    assert report.fields == {("pcsAcFreq",): 50.0}


def test_a_float_field_sent_as_varint_is_kept() -> None:
    raw = (
        tag(1, 0) + varint(390) + tag(2, 0) + varint(-3770) + tag(3, 5) + struct.pack("<f", 4160.0)
    )
    report = decode_message(pb.JTS1_ENERGY_STREAM_REPORT.FromString(raw))
    assert report.fields == {("sysLoadPwr",): 390, ("sysGridPwr",): -3770, ("mpptPwr",): 4160.0}


def test_an_int_field_sent_as_float_is_kept() -> None:
    raw = tag(5, 5) + struct.pack("<f", 87.5) + tag(6, 1) + struct.pack("<d", 1.25)
    report = decode_message(pb.JTS1_ENERGY_STREAM_REPORT.FromString(raw))
    assert report.fields == {("bpSoc",): 87.5, ("pv1_pwr",): 1.25}


def test_a_repeated_float_sent_as_varints_is_kept_in_order() -> None:
    raw = tag(3, 5) + struct.pack("<f", 57.5) + tag(3, 0) + varint(57) + tag(3, 0) + varint(55)
    report = decode_message(pb.mpptHeartBeat.FromString(raw))
    assert report.fields == {("mpptTempVal",): (57.5, 57, 55)}


def test_other_wire_types_inside_a_battery_pack() -> None:
    pack = tag(6, 0) + varint(3312) + tag(7, 5) + struct.pack("<f", 3301.0) + tag(2, 0) + varint(87)
    [decoded] = decode(
        frame_of(96, 7, tag(1, 2) + varint(len(pack)) + pack + tag(15, 0) + varint(0))
    )
    assert decoded.reports == []  # no serial and no slot: an empty placeholder entry
    pack += tag(15, 0) + varint(2)
    [decoded] = decode(frame_of(96, 7, tag(1, 2) + varint(len(pack)) + pack))
    [(name, report)] = decoded.reports
    assert name == "2"
    assert report.fields == {
        ("bpMaxCellVol",): 3312,
        ("bpMinCellVol",): 3301.0,
        ("bpSoc",): 87,
        ("bpDsrc",): 2,
    }


def test_unknown_field_numbers_are_kept_raw_apart_from_the_fields() -> None:
    raw = tag(21, 0) + varint(1) + tag(700, 0) + varint(5) + tag(701, 2) + varint(2) + b"ok"
    report = decode_message(pb.JTS1_EMS_CHANGE_REPORT.FromString(raw))
    assert report.fields == {("pcs_run_sta",): 1}
    assert report.unknown == {("#700",): (0, 5), ("#701",): (2, b"ok")}


def test_a_text_field_sent_as_a_number_is_unknown() -> None:
    pack = pb.bpStaReport.FromString(tag(16, 0) + varint(7) + tag(2, 0) + varint(87))
    report = decode_message(pack)
    assert report.fields == {("bpSoc",): 87}
    assert report.unknown == {("#16",): (0, 7)}


def test_entries_are_named_by_their_key() -> None:
    components = pb.ModuleClusterInfo(
        module=[pb.ModuleInfo(addr=96, app_ver=1), pb.ModuleInfo(addr=4), pb.ModuleInfo()]
    )
    [decoded] = decode(build_payload(SERIAL, [(53, 113, components)]))
    assert [name for name, _ in decoded.reports] == ["ems", "4"]


def test_an_entry_is_named_by_its_key_as_fields_hold_it() -> None:
    packs = pb.JTS1_BP_STA_REPORT(bpSta=[pb.bpStaReport(bpSn=b"HJ32PACK\x00 ", bpDsrc=2)])
    [decoded] = decode(build_payload(SERIAL, [(96, 7, packs)]))
    [(name, report)] = decoded.reports
    assert name == "HJ32PACK" == report.fields[("bpSn",)]


def test_a_pack_without_serial_is_named_by_its_slot() -> None:
    packs = pb.JTS1_BP_STA_REPORT(bpSta=[pb.bpStaReport(bpDsrc=3, bpSoc=50)])
    [decoded] = decode(build_payload(SERIAL, [(96, 7, packs)]))
    assert [name for name, _ in decoded.reports] == ["3"]


def test_packed_and_unpacked_repeated_floats() -> None:
    cells = [3301.0, 3302.5, 3310.0]
    packed_body = b"".join(struct.pack("<f", cell) for cell in cells)
    packed = tag(14, 2) + varint(len(packed_body)) + packed_body
    unpacked = b"".join(tag(14, 5) + struct.pack("<f", cell) for cell in cells)

    assert decode_message(pb.bpStaReport.FromString(packed)).fields == {
        ("bpCellVol",): tuple(cells)
    }
    assert decode_message(pb.bpStaReport.FromString(unpacked)).fields == {
        ("bpCellVol",): tuple(cells)
    }


def test_bp_sn_with_invalid_utf8() -> None:
    serial = b"HJ32\xff\xfe\xc3("
    entry = tag(16, 2) + varint(len(serial)) + serial + tag(15, 0) + varint(2)
    [decoded] = decode(frame_of(96, 7, tag(1, 2) + varint(len(entry)) + entry))
    [(name, _)] = decoded.reports
    assert name == "HJ32\ufffd\ufffd\ufffd("


# -- the model of a system, learned from its frames ------------------------------------------

DC_FIT_TYPE = 85


def routes(models: SystemModels, serial: str, *messages) -> list[str]:
    payload = build_payload(serial, [(96, 1, message) for message in messages])
    return [d.route.name for d in decode(payload, models) if d.route]


def test_a_system_is_routed_by_its_serial_until_a_frame_tells_its_model() -> None:
    models = SystemModels(MAPPING)
    assert routes(models, "HC31TEST00000001", pb.EMSHeartbeatReport()) == ["DCFIT_EMS_HEARTBEAT"]
    assert routes(models, SERIAL, pb.JTS1_EMS_HEARTBEAT()) == ["JTS1_EMS_HEARTBEAT"]


def test_a_header_product_id_tells_the_model() -> None:
    models = SystemModels(MAPPING)
    header = pb.Header(src=96, cmd_func=96, cmd_id=1, module_sn=SERIAL, product_id=DC_FIT_TYPE << 8)
    [decoded] = decode(pb.HeaderMessage(header=[header]).SerializeToString(), models)
    assert decoded.route is not None and decoded.route.name == "DCFIT_EMS_HEARTBEAT"
    assert models.model_of(SERIAL) == "dc_fit"


@pytest.mark.parametrize(
    ("src", "product_id"),
    [
        (53, 0x5304),  # a J327's IoT module names its own product (type 83) in 53/14
        (53, DC_FIT_TYPE << 8),  # a component other than the EMS: not the system's product
        (96, 254),  # an Ocean 2's header: product type 0
        (96, 0x9901),  # a product type no model lists
    ],
)
def test_only_a_known_product_of_the_ems_changes_the_model(src: int, product_id: int) -> None:
    models = SystemModels(MAPPING)
    header = pb.Header(
        src=src, cmd_func=53, cmd_id=14, module_sn="J327TEST0001", product_id=product_id
    )
    decode(pb.HeaderMessage(header=[header]).SerializeToString(), models)
    assert models.model_of("J327TEST0001") == "single_phase"  # still what the serial says


def test_the_component_inventory_tells_the_model_for_the_frames_after_it() -> None:
    models = SystemModels(MAPPING)
    inventory = pb.ModuleClusterInfo(module=[pb.ModuleInfo(addr=96, product_type=DC_FIT_TYPE)])
    payload = build_payload(SERIAL, [(96, 1, pb.EMSHeartbeatReport()), (53, 113, inventory)])
    payload += build_payload(SERIAL, [(96, 1, pb.EMSHeartbeatReport())])
    names = [d.route.name for d in decode(payload, models) if d.route]
    assert names == ["JTS1_EMS_HEARTBEAT", "MODULE_CLUSTER_INFO", "DCFIT_EMS_HEARTBEAT"]


def test_only_the_given_serials_are_remembered() -> None:
    models = SystemModels(MAPPING, serials={SERIAL})
    for serial in (SERIAL, "R371OTHER0000001"):
        header = pb.Header(
            src=96, cmd_func=96, cmd_id=1, module_sn=serial, product_id=DC_FIT_TYPE << 8
        )
        decode(pb.HeaderMessage(header=[header]).SerializeToString(), models)
    assert models.model_of(SERIAL) == "dc_fit"
    assert models.model_of("R371OTHER0000001") == "plus"  # from its serial only


def test_mutated_messages_decode_without_raising() -> None:
    """Frames are decoded on the MQTT client's thread: nothing a frame holds may make that
    raise."""
    rng = random.Random(11)
    messages = PowerOceanModel(epoch=0).messages(1000.0)
    for _ in range(3000):
        name = rng.choice(list(messages))
        data = bytearray(messages[name].SerializeToString())
        for _ in range(rng.randrange(1, 6)):
            position = rng.randrange(len(data))
            if rng.random() < 0.6:
                data[position] = rng.randrange(256)
            else:
                data[position:position] = rng.randbytes(rng.randrange(1, 8))
        route = MAPPING.routes[name]
        decoded = decode_frame(Frame(SERIAL, *route.command, pb.Header(), bytes(data)), route)
        for entry, report in decoded.reports:
            assert isinstance(entry, str) and bool(entry) == bool(route.entry_label)
            assert all(isinstance(path, tuple) for path in (*report.fields, *report.unknown))


OCEAN2 = "RE11ZTEST0000001"


def test_a_command_only_an_ocean2_sends_tells_its_model() -> None:
    """A serial no model lists: a 254/39 is an Ocean 2's, and so are the frames after it."""
    models = SystemModels(MAPPING)
    serial = "RE99ZTEST0000001"
    assert models.model_of(serial) == ""
    payload = ocean2_payload(serial, (OCEAN2_TELEMETRY, pb.Ocean2Telemetry()))
    payload += ocean2_payload(serial, (OCEAN2_MODULE, ocean2_module(OCEAN2_MODULES[0], 1)))
    names = [d.route.name for d in decode(payload, models) if d.route]
    assert names == ["OCEAN2_TELEMETRY", "OCEAN2_MODULE_REPORT"]
    assert models.model_of(serial) == "ocean2"


@pytest.mark.parametrize("prefix", ["RE11", "RE17", "RE41", "RE42", "RE43"])
def test_each_ocean2_prefix_is_an_ocean2(prefix: str) -> None:
    assert MAPPING.model_of_serial(f"{prefix}ZTEST0000001") == "ocean2"


def test_a_keyed_list_is_reported_by_the_number_its_elements_name() -> None:
    [decoded] = decode(ocean2_payload(OCEAN2, (OCEAN2_TELEMETRY, ocean2_phase_delta())))
    [(_, report)] = decoded.reports
    assert report.fields[("inverter", "phases", "phase", 3, "act_pwr")] == 57.0
    assert report.fields[("inverter", "phases", "phase", 3, "phase")] == 3
    assert report.fields[("inverter", "pv_strings", "pv", 2, "volt")] == 105.25
    assert report.lists == []  # merged element by element, never replaced whole

"""What the message cache keeps of PowerOcean reports: a field a report carries replaces the
kept value, a field it leaves out keeps it, a repeated message it sends replaces the kept
entries below it whole."""

import itertools
import struct

import pytest
from google.protobuf.message import Message

from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.codec import decode_frame, decode_message
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.powerocean.wire import Frame
from exporter.simulate.powerocean import DcFitModel, Ocean2Model, PowerOceanModel, build_payload
from tests.support.powerocean_messages import SERIAL, TOPIC, change_report, heartbeat, tag, varint

MAPPING = load_powerocean_mapping()


def kept_after(*messages: Message, replace: bool = False) -> dict:
    """The fields kept of one message after ``messages`` were reported in turn."""
    cache = MessageCache()
    for at, message in enumerate(messages):
        cache.update(SERIAL, "MESSAGE", decode_message(message), float(at), replace=replace)
    return dict(cache.snapshot()[SERIAL].messages["MESSAGE"].fields)


def test_a_field_left_out_keeps_its_value_and_a_field_sent_replaces_it() -> None:
    fields = kept_after(change_report(), pb.JTS1_EMS_CHANGE_REPORT(bpSoc=90))
    assert fields[("bpSoc",)] == 90
    assert fields[("bpTotalChgEnergy",)] == 1_234_567


def test_explicit_zeros_replace_kept_values() -> None:
    fields = kept_after(change_report(), pb.JTS1_EMS_CHANGE_REPORT(bpSoc=0, pcs_run_sta=0))
    assert (fields[("bpSoc",)], fields[("pcs_run_sta",)]) == (0, 0)
    assert fields[("bpTotalChgEnergy",)] == 1_234_567


def test_a_resent_list_replaces_the_kept_one_whole() -> None:
    shorter = pb.JTS1_EMS_HEARTBEAT(
        pcsAcFreq=50.0,
        mpptHeartBeat=[pb.mpptHeartBeat(mpptPv=[pb.mpptPv(pwr=100.0)], mpptTempVal=[40.0])],
    )
    fields = kept_after(heartbeat(), shorter)
    assert fields[("mpptHeartBeat", 0, "mpptPv", 0, "pwr")] == 100.0
    assert ("mpptHeartBeat", 0, "mpptPv", 0, "vol") not in fields  # not resent: gone
    assert ("mpptHeartBeat", 0, "mpptPv", 2, "pwr") not in fields
    assert ("mpptHeartBeat", 0, "mpptInsResist") not in fields
    assert fields[("mpptHeartBeat", 0, "mpptTempVal")] == (40.0,)
    assert fields[("pcsBPhase", "volt")] == 237.25  # not a list: kept
    assert fields[("pcsAcFreq",)] == 50.0


def test_a_report_without_the_list_keeps_it() -> None:
    fields = kept_after(heartbeat(), pb.JTS1_EMS_HEARTBEAT(pcsAcFreq=50.0))
    assert fields[("mpptHeartBeat", 0, "mpptPv", 2, "pwr")] == 883.0
    assert fields[("pcsAcFreq",)] == 50.0


def test_lists_below_a_single_message_are_replaced_and_kept_apart() -> None:
    fields = kept_after(
        pb.ErrorChangeReport(
            ems_err_code=pb.ErrorCode(module_sn="ems", err_code=[1, 2]),
            pcs_err_code=pb.ErrorCode(err_code=[5]),
        ),
        pb.ErrorChangeReport(ems_err_code=pb.ErrorCode(err_code=[3])),
    )
    assert fields[("ems_err_code", "err_code")] == (3,)
    assert fields[("ems_err_code", "module_sn")] == "ems"
    assert fields[("pcs_err_code", "err_code")] == (5,)


def test_a_value_of_another_wire_type_then_a_normal_value() -> None:
    as_varint = pb.JTS1_ENERGY_STREAM_REPORT.FromString(tag(1, 0) + varint(390))
    first = pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=100.0, bpSoc=50)
    assert kept_after(first, as_varint) == {("sysLoadPwr",): 390, ("bpSoc",): 50}
    later = pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=400.0)
    assert kept_after(first, as_varint, later) == {("sysLoadPwr",): 400.0, ("bpSoc",): 50}


def test_a_complete_message_is_kept_alone() -> None:
    fields = kept_after(change_report(), pb.JTS1_EMS_CHANGE_REPORT(bpSoc=90), replace=True)
    assert fields == {("bpSoc",): 90}


def test_unnamed_field_numbers_are_not_kept() -> None:
    unnamed = tag(200, 5) + struct.pack("<f", 860.0) + tag(22, 0) + varint(1)
    raw = heartbeat().SerializeToString() + unnamed
    reports = [pb.JTS1_EMS_HEARTBEAT.FromString(raw) for _ in range(50)]
    assert kept_after(*reports) == decode_message(heartbeat()).fields


def test_a_snapshot_does_not_change_with_later_reports() -> None:
    cache = MessageCache()
    cache.update(SERIAL, "MESSAGE", decode_message(change_report()), 1.0)
    snapshot = cache.snapshot()
    cache.update(SERIAL, "MESSAGE", decode_message(pb.JTS1_EMS_CHANGE_REPORT(bpSoc=0)), 2.0)
    cache.update(SERIAL, "OTHER", decode_message(change_report()), 2.0)
    kept = snapshot[SERIAL].messages
    assert (kept["MESSAGE"].fields[("bpSoc",)], kept["MESSAGE"].at) == (87, 1.0)
    assert "OTHER" not in kept


def test_entries_are_bounded_and_a_new_one_evicts_stale_ones() -> None:
    cache = MessageCache(max_entries=2)
    report = decode_message(pb.bpStaReport(bpSoc=50))
    for name, at in (("A", 1.0), ("B", 5.0)):
        assert cache.update_entry(SERIAL, "PACKS", name, report, at, forget_before=0.0)
    assert not cache.update_entry(SERIAL, "PACKS", "C", report, 6.0, forget_before=0.0)
    assert cache.update_entry(SERIAL, "PACKS", "A", report, 6.0, forget_before=0.0)  # known
    assert cache.update_entry(SERIAL, "PACKS", "C", report, 7.0, forget_before=5.5)
    assert sorted(cache.snapshot()[SERIAL].entries["PACKS"]) == ["A", "C"]


# -- simulated systems through the ingest -------------------------------------------------

COMMANDS = {name: route.command for name, route in MAPPING.routes.items()}
PACKS = ("HJ32ZDH4ZF000001", "HJ32ZDH4ZF000002")


@pytest.mark.parametrize(
    ("system", "serial"),
    [
        (PowerOceanModel(packs=PACKS, epoch=0), SERIAL),
        (DcFitModel(packs=PACKS, epoch=0), "HC31ZTEST0000001"),
        (Ocean2Model("RE11ZTEST0000001", epoch=0), "RE11ZTEST0000001"),
    ],
)
def test_simulated_updates_keep_what_the_system_said_last(system, serial) -> None:
    """A get-all, then eleven mid-session pushes (partial 96/17 and one pack at a time on a
    Plus, what changed on an Ocean 2): each message, and each pack, reads what the last
    report carrying a field said (an Ocean 2's phase and string by the number it names); a
    complete message reads its last report alone."""
    cache = MessageCache()
    clock = itertools.count()
    ingest = Ingest(MAPPING, cache, {serial}, stale_after=1e9, clock=lambda: float(next(clock)))
    said: dict[tuple[str, str], list[dict]] = {}
    pushes = [system.messages(1000.0)]
    pushes += [system.update(1000.0 + 2 * tick, tick) for tick in range(1, 12)]
    for messages in pushes:
        ingest(f"/app/device/property/{serial}", payload(serial, messages))
        for name, message in messages.items():
            for entry, fields in reported(name, message):
                said.setdefault((name, entry), []).append(fields)

    state = cache.snapshot()[serial]
    for (name, entry), reports in said.items():
        kept = state.entries[name][entry] if entry else state.messages[name]
        if MAPPING.routes[name].complete:
            assert kept.fields == reports[-1], name
        else:
            assert kept.fields == {k: v for fields in reports for k, v in fields.items()}, name
    assert ingest.counts()[0] == dict.fromkeys(ingest.counts()[0], 0)  # nothing dropped


def test_a_partial_state_report_keeps_the_rest() -> None:
    cache = MessageCache()
    ingest = Ingest(MAPPING, cache, {SERIAL}, stale_after=1e9)
    system = PowerOceanModel(packs=PACKS, epoch=0)
    ingest(TOPIC, payload(SERIAL, system.messages(1000.0)))
    ingest(TOPIC, payload(SERIAL, system.update(1020.0, 10)))
    fields = cache.snapshot()[SERIAL].messages["JTS1_EMS_STATE_CHANGE_REPORT"].fields
    soc = round(system.flows(1020.0)["soc"])
    assert (fields[("bpSoc",)], fields[("sys_work_sta",)], fields[("eth_wan_stat",)]) == (
        soc,
        0,
        32,
    )


def payload(serial: str, messages: dict[str, Message]) -> bytes:
    return build_payload(serial, [(*COMMANDS[name], m) for name, m in messages.items()])


def reported(name: str, message: Message) -> list[tuple[str, dict]]:
    """(entry, fields) of each entry ``message`` reports, or ("", fields)."""
    route = MAPPING.routes[name]
    frame = Frame(SERIAL, *route.command, pb.Header(), message.SerializeToString())
    return [(entry, report.fields) for entry, report in decode_frame(frame, route).reports]


def test_a_keyed_list_keeps_each_element_by_its_number_and_merges_it() -> None:
    """An Ocean 2's phases: a report with phases 1 and 3, power only, keeps phase 2 and
    the phases' voltage; a placeholder naming no phase is kept apart, at 0."""
    route = MAPPING.routes["OCEAN2_TELEMETRY"]
    cache = MessageCache()
    full = pb.Ocean2Telemetry()
    full.inverter.phases.phase.add(volt=0.0)  # the placeholder of a get-all answer
    for number in (1, 2, 3):
        full.inverter.phases.phase.add(phase=number, volt=230.0 + number, act_pwr=100.0)
    delta = pb.Ocean2Telemetry()
    delta.inverter.phases.phase.add(phase=3, act_pwr=300.0)
    delta.inverter.phases.phase.add(phase=1, act_pwr=-100.0)
    for at, message in enumerate((full, delta)):
        frame = Frame(SERIAL, *route.command, pb.Header(), message.SerializeToString())
        [(_, report)] = decode_frame(frame, route).reports
        cache.update(SERIAL, route.name, report, float(at))
    fields = cache.snapshot()[SERIAL].messages[route.name].fields
    phases = {
        (number, name): value
        for (*_, number, name), value in fields.items()
        if name in ("volt", "act_pwr")
    }
    assert phases == {
        (0, "volt"): 0.0,
        (1, "volt"): 231.0,
        (1, "act_pwr"): -100.0,
        (2, "volt"): 232.0,
        (2, "act_pwr"): 100.0,
        (3, "volt"): 233.0,
        (3, "act_pwr"): 300.0,
    }

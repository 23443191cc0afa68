"""PowerOcean end to end: frames built with the project's schema -> real Mosquitto ->
the exporter's MQTT client -> cache -> HTTP scrape parsed with prometheus_client."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from typing import Any

import pytest
from google.protobuf.message import Message
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.samples import Sample

from exporter.configfile import Config
from exporter.metrics import dotted_version, scaling
from exporter.model import Kind
from exporter.powerocean.channels import PowerOceanChannel, load_powerocean_mapping
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.powerocean.proto import powerocean_pb2 as pb
from exporter.simulate.powerocean import DcFitModel, PowerOceanModel, build_payload
from tests.support.exporters import start_exporter
from tests.support.mosquitto import Mosquitto, Subscriber
from tests.support.paths import PROJECT_ROOT
from tests.support.powerocean_messages import frame_of, varint, xor_encoded
from tests.support.scrape import PROMETHEUS_ACCEPT, Scrape, scrape_until

MAPPING = load_powerocean_mapping()
COMMANDS = {name: route.command for name, route in MAPPING.routes.items()}
SEED = PROJECT_ROOT.parent / "shared" / "seeds" / "powerocean-states.md"
CAPTURE = SEED.parents[1] / "fixtures" / "powerocean" / "r374_get_all_masked.bin"
SERIAL = "R371ZD1AZH000001"
PACKS = ("HJ31PACK0000001", "HJ31PACK0000002")


def topic(serial: str = SERIAL) -> str:
    return f"/app/device/property/{serial}"


def set_path(message: Message, path: tuple[str | int, ...], value: Any) -> Any:
    """Put ``value`` at a mapping path, creating list entries on the way; returns what
    was stored (a whole number where the field holds whole numbers)."""
    node: Any = message
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            continue
        child = getattr(node, step)
        if isinstance(following, int):
            while len(child) <= following:
                child.add()
            node = child[following]
        else:
            node = child
    leaf = getattr(node, str(path[-1]))
    if isinstance(value, list):
        leaf.extend(value)
    elif isinstance(leaf, bytes):
        setattr(node, str(path[-1]), value.encode())
    else:
        if isinstance(leaf, str):
            value = str(value)
        elif isinstance(leaf, bool):
            value = True
        elif isinstance(leaf, int) and isinstance(value, float):
            value = int(value)
        setattr(node, str(path[-1]), value)
    return value


def distinct_value(channel: PowerOceanChannel, seed: int) -> Any:
    """A value for the channel that no other channel has, exact in a float32."""
    if channel.kind is Kind.ENUM:
        return sorted(channel.states)[-1]
    if channel.kind is Kind.INFO:
        return f"text-{seed}" if channel.info_label == "pack_serial" else seed
    if channel.kind is Kind.ARRAY or channel.location.summed:
        return [seed + 1, seed + 2, seed + 3]  # whole numbers fit int and float lists
    return seed + 0.5 if channel.metric.endswith(("_watts", "_volts", "_celsius")) else seed + 7


#: The first route of each schema message a Plus sends: where filled messages are sent.
SCHEMA_ROUTES = {}
for _route in MAPPING.routes.values():
    if not _route.model:
        SCHEMA_ROUTES.setdefault(_route.schema, _route)


def filled_messages(offset: int) -> tuple[dict[str, Message], dict[PowerOceanChannel, Any]]:
    """One message per schema with a distinct value in every mapped field, by route name;
    and what was put where. Entries (packs, modules ...) are one each, named by the
    pack serial for packs and ``entry_name(route)`` for the others."""
    messages: dict[str, Message] = {}
    values: dict[PowerOceanChannel, Any] = {}
    for schema, route in SCHEMA_ROUTES.items():
        message = route.message_type()
        target = getattr(message, route.entries).add() if route.entries else message
        if route.entry_label and route.entry_label != "pack":
            set_path(target, (route.entry_key[0],), entry_name(route))
        channels = [c for c in MAPPING.channels if c.location.message == schema and not c.variant]
        filled: dict[tuple[str | int, ...], Any] = {}  # a field two channels read is set once
        for index, channel in enumerate(channels):
            path = channel.location.path
            value = distinct_value(channel, offset + index * 10)
            if channel.info_label == "pack_serial":
                value = PACKS[0] if offset < 1000 else PACKS[1]
            if path not in filled:
                filled[path] = set_path(target, path, value)
            values[channel] = filled[path]
        messages[route.name] = message
    return messages, values


def entry_name(route) -> Any:
    """The key a filled entry gets: text for a serial, a number for a bus address."""
    field = route.message_type.DESCRIPTOR
    if route.entries:
        field = field.fields_by_name[route.entries].message_type
    numeric = (
        field.fields_by_name[route.entry_key[0]].cpp_type
        != field.fields_by_name[route.entry_key[0]].CPPTYPE_STRING
    )
    return 42 if numeric else f"{route.entry_label.upper()}-1"


def entry_labels(channel: PowerOceanChannel) -> dict[str, str]:
    """The entry label of a filled message's channel: {} for system channels."""
    route = SCHEMA_ROUTES.get(channel.location.message)
    if route is None or not route.entry_label:
        return {}
    if route.entry_label == "pack":
        return {"pack": PACKS[0]}
    return {route.entry_label: str(entry_name(route))}


def payload(messages: dict[str, Message], serial: str = SERIAL) -> bytes:
    return build_payload(serial, [(*COMMANDS[name], m) for name, m in messages.items()])


def assert_exported(result: Scrape, channel: PowerOceanChannel, value: Any, **labels: str) -> None:
    labels = {**labels, **dict(channel.labels)}
    name = channel.metric
    if channel.location.summed:
        value = sum(value)
    if channel.kind in (Kind.GAUGE, Kind.COUNTER):
        assert math.isclose(
            result.value(name, **labels), scaling(channel.scale)(value), rel_tol=1e-6
        ), channel.seed_id
    elif channel.kind is Kind.ENUM:
        for raw, state in channel.states.items():
            assert result.value(name, state=state, **labels) == float(raw == value), channel.seed_id
    elif channel.kind is Kind.ARRAY:
        for index, item in enumerate(value, start=channel.first_index):
            got = result.value(name, **{channel.index_label: str(index)}, **labels)
            assert math.isclose(got, scaling(channel.scale)(item), rel_tol=1e-6), channel.seed_id
    elif channel.kind is Kind.INFO:
        text = dotted_version(value) if channel.text_format == "version" else str(value)
        assert result.value(name, **{channel.info_label: text}, **labels) == 1, channel.seed_id


def powerocean_config(broker: Mosquitto, **options: Any) -> Config:
    return Config(
        powerocean=PowerOceanConfig(
            devices={SERIAL: SERIAL},
            broker=BrokerConfig(url=broker.url, ca_file=broker.ca_file),
            **options,
        )
    )


def wait_scrape(exporter, predicate, timeout: float = 20.0) -> Scrape:
    return scrape_until(exporter.port, predicate, timeout)


@pytest.fixture
def broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto") as mosquitto:
        yield mosquitto


@pytest.fixture
def tls_broker(tmp_path):
    with Mosquitto(tmp_path / "mosquitto-tls", tls=True) as mosquitto:
        yield mosquitto


@pytest.fixture
def exporter_on(request):
    started = []

    def start(config: Config):
        exporter = start_exporter(config)
        started.append(exporter)
        wait_scrape(
            exporter,
            lambda r: (
                r.has("powerocean_mqtt_connected") and r.value("powerocean_mqtt_connected") == 1
            ),
        )
        return exporter

    yield start
    for exporter in started:
        exporter.stop()


def connected(result: Scrape) -> bool:
    return result.value("powerocean_mqtt_connected") == 1


def test_every_seed_state_is_exported_with_its_value_and_labels(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    messages, values = filled_messages(offset=100)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        result = wait_scrape(exporter, lambda r: r.has("powerocean_battery_pack_info"))
    assert result.value("powerocean_up", serial=SERIAL) == 1
    for channel, value in values.items():
        assert_exported(result, channel, value, serial=SERIAL, **entry_labels(channel))
    now = pytest.approx(time.time(), abs=30)
    for name in messages:
        assert result.value("powerocean_last_message_timestamp_seconds", message=name) == now
    assert (
        result.value("powerocean_battery_pack_last_message_timestamp_seconds", pack=PACKS[0]) == now
    )


def test_the_mapping_covers_every_seed_state():
    if not SEED.is_file():
        pytest.skip("seed list not beside the project")
    group, states = "", set()
    for line in SEED.read_text().splitlines():
        if line.startswith("## "):
            group = line[3:].strip().rstrip("1")
        elif line.startswith("|") and not line.startswith(("|--", "| State")):
            states.add(f"{group}.{line.split('|')[1].strip()}")
    assert states <= {channel.seed_id for channel in MAPPING.channels}
    assert len(states) == 99


def test_two_packs_are_kept_apart(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    first, first_values = filled_messages(offset=100)
    second, second_values = filled_messages(offset=5000)
    with Subscriber(broker) as device:
        # Mid-session messages carry one pack each: the second must not erase the first.
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": first["JTS1_BP_STA_REPORT"]}))
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": second["JTS1_BP_STA_REPORT"]}))
        result = wait_scrape(
            exporter, lambda r: len(r.values("powerocean_battery_pack_power_watts")) == 2
        )
    soc = "powerocean_battery_pack_state_of_charge_ratio"
    for pack, values in ((PACKS[0], first_values), (PACKS[1], second_values)):
        for channel, value in values.items():
            if channel.location.message == "JTS1_BP_STA_REPORT":
                assert_exported(result, channel, value, serial=SERIAL, pack=pack)
    assert result.value(soc, pack=PACKS[0]) != result.value(soc, pack=PACKS[1])


def test_a_silent_system_goes_stale_and_its_series_disappear(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker, stale_after_seconds=1.5))
    messages, _ = filled_messages(offset=100)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        fresh = wait_scrape(exporter, lambda r: r.has("powerocean_grid_power_watts"))
        assert fresh.value("powerocean_up", serial=SERIAL) == 1
        stale = wait_scrape(exporter, lambda r: r.value("powerocean_up", serial=SERIAL) == 0)
    assert not stale.has("powerocean_grid_power_watts")
    assert not stale.has("powerocean_battery_pack_power_watts")
    assert stale.has("powerocean_last_message_timestamp_seconds", serial=SERIAL)


def test_values_flow_again_after_the_broker_restarts(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(model.messages(100.0)))
        wait_scrape(exporter, lambda r: r.has("powerocean_load_power_watts"))
    broker.restart()
    assert connected(wait_scrape(exporter, connected, timeout=30))
    messages = model.messages(200.0)
    messages["JTS1_ENERGY_STREAM_REPORT"].sysLoadPwr = 1234.5
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        result = wait_scrape(
            exporter, lambda r: r.values("powerocean_load_power_watts") == [1234.5]
        )
    assert result.value("powerocean_load_power_watts", serial=SERIAL) == 1234.5
    assert result.value("powerocean_mqtt_connects_total") >= 2


def test_each_data_request_is_counted_by_its_name(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker, keepalive_seconds=0.5))
    requests = "powerocean_mqtt_requests_published_total"
    result = wait_scrape(exporter, lambda r: r.value(requests, request="energy_stream") >= 3)
    # get-all and latestQuotas on connect; the next latestQuotas is due after 30 s.
    assert result.value(requests, request="get_all") == 1
    assert result.value(requests, request="latest_quotas") == 1


def test_garbage_is_counted_and_good_frames_still_arrive(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    good, good_values = filled_messages(offset=100)
    good_payload = payload(good)
    ignored = build_payload(SERIAL, [(96, 9, pb.JTS1_EMS_CHANGE_REPORT())])  # see the mapping
    garbage = [
        (json.dumps({"params": {"bpSoc": 50}}).encode(), "not_protobuf"),
        (bytes(range(256)) * 4, "not_protobuf"),
        (good_payload[: len(good_payload) // 2], "truncated"),
        (b"\x0a" * 10_000_000, "too_large"),
        (build_payload(SERIAL, [(254, 17, pb.JTS1_EMS_CHANGE_REPORT())]), "unknown_command"),
        (frame_of(96, 1, b"\x0a\x05abc", SERIAL), "bad_message"),  # a field longer than the rest
        (frame_of(96, 33, b"\xff\xff\xff\xff", SERIAL), "bad_message"),  # no valid field tag
        # A header with no known field beside a frame of a command with nothing to export.
        (pb.HeaderMessage(header=[pb.Header()]).SerializeToString() + ignored, "blank_header"),
    ]
    with Subscriber(broker) as device:
        for junk, _ in garbage:
            device.publish(topic(), junk)
        device.publish(topic(), xor_encoded(payload(good), 0x1234567))
        result = wait_scrape(
            exporter,
            lambda r: (
                r.has("powerocean_grid_power_watts")
                and r.value("powerocean_decode_errors_total", reason="too_large") == 1
            ),
        )
    errors = {
        s.labels["reason"]: s.value
        for s in result.samples
        if s.name == "powerocean_decode_errors_total"
    }
    assert {reason: n for reason, n in errors.items() if n} == dict(
        Counter(reason for _, reason in garbage)
    )
    assert result.value("powerocean_up", serial=SERIAL) == 1
    grid = next(v for c, v in good_values.items() if c.metric == "powerocean_grid_power_watts")
    assert result.value("powerocean_grid_power_watts", serial=SERIAL) == grid


def test_tls_broker_with_the_test_ca(tls_broker, exporter_on):
    exporter = exporter_on(powerocean_config(tls_broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(tls_broker) as device:
        device.publish(topic(), payload(model.messages(1000.0)))
        result = wait_scrape(exporter, lambda r: r.has("powerocean_battery_pack_power_watts"))
    flows = model.flows(1000.0)
    assert result.value("powerocean_grid_power_watts") == pytest.approx(flows["grid"], rel=1e-5)
    assert sorted(
        s.labels["pack"] for s in result.samples if s.name == "powerocean_battery_pack_power_watts"
    ) == sorted(PACKS)


def test_the_simulated_energy_balance_holds(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(model.messages(900.0)))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_load_power_watts"))
    load = r.value("powerocean_load_power_watts")
    balance = (
        r.value("powerocean_grid_power_watts")
        + r.value("powerocean_solar_power_watts")
        - r.value("powerocean_battery_power_watts")
    )
    assert load == pytest.approx(balance, abs=0.01)
    assert r.value("powerocean_solar_power_watts") > 0


def test_promtool_accepts_a_full_scrape(broker, exporter_on):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed"
    exporter = exporter_on(powerocean_config(broker))
    with Subscriber(broker) as device:
        device.publish(topic(), payload(PowerOceanModel(packs=PACKS).messages(time.time())))
        result = wait_scrape(
            exporter, lambda r: r.has("powerocean_battery_pack_cell_voltage_volts")
        )
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=result.text, capture_output=True, text=True
    )
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


def test_prometheus_headers_get_gzipped_openmetrics_with_the_same_series(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    messages = PowerOceanModel(packs=PACKS).messages(time.time())
    with Subscriber(broker) as device:
        device.publish(topic(), payload(messages))
        text = wait_scrape(
            exporter,
            lambda r: all(
                r.has("powerocean_last_message_timestamp_seconds", message=name)
                for name in messages
            ),
        )
    request = urllib.request.Request(
        f"http://127.0.0.1:{exporter.port}/metrics",
        headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        headers, body = response.headers, response.read()
    assert headers["Content-Type"] == (
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
    )
    assert headers["Content-Encoding"] == "gzip"
    exposition = gzip.decompress(body).decode()
    assert exposition.endswith("# EOF\n")
    families = list(parse_openmetrics(exposition))
    assert {series(s) for f in families for s in f.samples} == {series(s) for s in text.samples}


def series(sample: Sample) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sample.name, tuple(sorted(sample.labels.items()))


def test_decode_prints_a_payload_as_json(tmp_path):
    model = PowerOceanModel(packs=PACKS, epoch=0)
    file = tmp_path / "payload.bin"
    file.write_bytes(payload(model.messages(900.0)))
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(file)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    frames = json.loads(run.stdout)["frames"]
    names = [frame["message"] for frame in frames]
    assert sorted(names) == sorted(model.messages(900.0))
    stream = frames[names.index("JTS1_ENERGY_STREAM_REPORT")]
    assert stream["serial"] == SERIAL
    assert stream["fields"]["sysLoadPwr"] == pytest.approx(model.flows(900.0)["load"], rel=1e-5)

    garbage = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", "-"], input=b"{}", capture_output=True
    )
    assert garbage.returncode == 1 and b"cannot decode" in garbage.stderr


def test_decode_reads_the_real_capture():
    if not CAPTURE.is_file():
        pytest.skip("the captured payload is not beside the project")
    run = subprocess.run(
        [sys.executable, "-m", "exporter", "decode", str(CAPTURE)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    frames = json.loads(run.stdout)["frames"]
    assert len(frames) == 19
    by_command = {f["command"]: f for f in frames}
    assert by_command["96/17"]["message"] == "JTS1_EMS_STATE_CHANGE_REPORT"
    assert by_command["96/16"]["message"] == "JTS1_EMS_SAFETY_PARAM_REPORT"
    assert [f["message"] for f in frames].count("unknown") == 2  # 96/22 and 96/14, both empty
    stream = by_command["96/33"]["fields"]
    assert (stream["sysLoadPwr"], stream["sysGridPwr"], stream["mpptPwr"]) == (390, -3770, 4160)
    beat = by_command["96/1"]["fields"]
    assert beat["pcsAPhase.volt"] == pytest.approx(237.35, abs=0.01)
    assert beat["pcsAPhase.amp"] == pytest.approx(5.194, abs=0.001)
    assert beat["pcsAPhase.actPwr"] == pytest.approx(-1221.4, abs=0.1)
    assert beat["pcsAPhase.reactPwr"] == pytest.approx(166.4, abs=0.1)
    assert beat["pcsAPhase.apparentPwr"] == pytest.approx(1232.7, abs=0.1)
    assert beat["mpptHeartBeat.0.mpptPv.2.pwr"] == pytest.approx(882.9, abs=0.1)
    assert beat["bpRemainWatth"] == 0  # an explicit zero is shown
    assert beat["pcs_meter_power"] == pytest.approx(-3726.9, abs=0.1)
    assert by_command["96/1"]["unknown_fields"]["#200"] == 860  # unnamed numbers, raw
    state = by_command["96/17"]["fields"]
    assert (state["pcs_run_sta"], state["bpSoc"], state["iot_4g_err"]) == (1, 0, 7)
    modules = by_command["53/113"]["entries"]
    assert modules["module=ems"]["fields"]["app_ver"] == 50336527
    assert [f["raw"] for f in frames if f["command"] == "241/1"] == [
        {"1": n} for n in (213, 214, 215)
    ]


def test_partial_reports_keep_earlier_values_and_explicit_zeros_count(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    model = PowerOceanModel(packs=PACKS, epoch=0)
    full = model.messages(900.0)
    flows = model.flows(900.0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(full))
        wait_scrape(exporter, lambda r: r.has("powerocean_feed_in_power_limit_watts"))
        partial = {
            "JTS1_EMS_HEARTBEAT": pb.JTS1_EMS_HEARTBEAT(pcsAcFreq=50.5),
            "JTS1_EMS_CHANGE_REPORT": pb.JTS1_EMS_CHANGE_REPORT(emsFeedPwr=0, emsFeedRatio=55),
            "JTS1_ENERGY_STREAM_REPORT": pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=321.0),
        }
        device.publish(topic(), payload(partial))
        r = wait_scrape(exporter, lambda r: r.value("powerocean_ac_frequency_hertz") == 50.5)
    # 96/1 and 96/8 keep what they do not repeat; an explicit 0 is exported as 0.
    volt = full["JTS1_EMS_HEARTBEAT"].pcsBPhase.volt
    assert r.value("powerocean_phase_voltage_volts", phase="B") == pytest.approx(volt)
    assert r.value("powerocean_feed_in_power_limit_watts") == 0
    assert r.value("powerocean_feed_in_limit_ratio") == 0.55
    assert r.value("powerocean_feed_in_mode", state="limit") == 1
    assert r.value("powerocean_ems_work_mode", state="SELFUSE") == 1
    assert r.value("powerocean_charge_discharge_power_setting_watts") == 700
    # 96/33 is sent without field presence: what it leaves out is 0.
    assert r.value("powerocean_load_power_watts") == 321
    assert r.value("powerocean_solar_power_watts") == 0
    assert flows["solar"] > 0


def test_a_value_of_another_wire_type_merges_with_what_is_kept(broker, exporter_on):
    """A firmware that sends a float field as an integer: its value is shown, the values
    kept from earlier heartbeats stay, and a later heartbeat's value replaces it."""
    exporter = exporter_on(powerocean_config(broker))
    full = PowerOceanModel(packs=PACKS, epoch=0).messages(900.0)
    volt = full["JTS1_EMS_HEARTBEAT"].pcsBPhase.volt
    frequency = pb.JTS1_EMS_HEARTBEAT.DESCRIPTOR.fields_by_name["pcsAcFreq"].number
    as_integer = pb.JTS1_EMS_HEARTBEAT.FromString(varint(frequency << 3) + varint(51))
    later = pb.JTS1_EMS_HEARTBEAT(pcsAcFreq=49.5)
    with Subscriber(broker) as device:
        device.publish(topic(), payload(full))
        wait_scrape(exporter, lambda r: r.has("powerocean_ac_frequency_hertz"))
        device.publish(topic(), payload({"JTS1_EMS_HEARTBEAT": as_integer}))
        sent_as_integer = wait_scrape(
            exporter, lambda r: r.value("powerocean_ac_frequency_hertz") == 51
        )
        device.publish(topic(), payload({"JTS1_EMS_HEARTBEAT": later}))
        r = wait_scrape(exporter, lambda r: r.value("powerocean_ac_frequency_hertz") == 49.5)
    for result in (sent_as_integer, r):
        assert result.value("powerocean_phase_voltage_volts", phase="B") == pytest.approx(volt)


def test_the_state_report_sets_run_state_soc_and_energy_counters(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    state = pb.JTS1_EMS_CHANGE_REPORT(
        pcs_run_sta=1, bpSoc=0, bpTotalChgEnergy=1_500_000, bpTotalDsgEnergy=1_400_000
    )
    settings = pb.JTS1_EMS_CHANGE_REPORT(pcs_run_sta=0, ems_work_mode=2)
    beat = pb.JTS1_EMS_HEARTBEAT(pcsAcFreq=50.0)
    with Subscriber(broker) as device:
        device.publish(topic(), payload({"JTS1_EMS_CHANGE_REPORT": settings}))
        device.publish(topic(), payload({"JTS1_EMS_HEARTBEAT": beat}))
        device.publish(topic(), payload({"JTS1_EMS_STATE_CHANGE_REPORT": state}))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_battery_charged_energy_joules_total"))
    # The newer report wins for run state; the other fields come from whichever sent them.
    assert r.value("powerocean_inverter_run_state", state="RUN") == 1
    assert r.value("powerocean_inverter_run_state", state="STANDBY") == 0
    assert r.value("powerocean_ems_work_mode", state="BACKUP") == 1
    soc = "powerocean_battery_state_of_charge_ratio"
    assert r.value(soc, report="ems_change") == 0  # an explicit 0 is a value
    assert r.value("powerocean_battery_charged_energy_joules_total") == 1_500_000 * 3600
    assert r.value("powerocean_battery_discharged_energy_joules_total") == 1_400_000 * 3600


def test_a_frame_belongs_to_the_system_of_its_topic_whatever_its_header_names(broker, exporter_on):
    """A component or sub-device may name its own serial in the header; the topic names the
    system. Nothing a header says creates series for another serial."""
    exporter = exporter_on(powerocean_config(broker))
    with Subscriber(broker) as device:
        for index in range(50):
            stream = pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=500.0 + index)
            device.publish(topic(), build_payload(f"R371INJECTED{index:04d}", [(96, 33, stream)]))
        received = ("powerocean_messages_received_total", "JTS1_ENERGY_STREAM_REPORT")
        r = wait_scrape(exporter, lambda r: r.value(received[0], message=received[1]) == 50)
    assert r.value(received[0], message=received[1]) == 50
    assert r.value("powerocean_load_power_watts", serial=SERIAL) == 549.0
    assert r.value("powerocean_decode_errors_total", reason="foreign_serial") == 0
    serials = {s.labels["serial"] for s in r.samples if "serial" in s.labels}
    assert serials == {SERIAL}
    assert r.value("powerocean_system_info", serial=SERIAL, name=SERIAL, model="plus") == 1


def test_packs_are_bounded_and_a_stale_pack_disappears(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker, stale_after_seconds=2))
    many = pb.JTS1_BP_STA_REPORT(
        bpSta=[pb.bpStaReport(bpSn=f"PACK{n:03d}".encode(), bpSoc=50) for n in range(40)]
    )
    soc = "powerocean_battery_pack_state_of_charge_ratio"
    with Subscriber(broker) as device:
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": many}))
        r = wait_scrape(exporter, lambda r: len(r.values(soc)) == 32)
        assert r.value("powerocean_decode_errors_total", reason="too_many_entries") == 1
        wait_scrape(exporter, lambda r: not r.has(soc))  # stale after 2 s
        alive = pb.JTS1_BP_STA_REPORT(bpSta=[pb.bpStaReport(bpSn=b"PACK-NEW", bpSoc=60)])
        device.publish(topic(), payload({"JTS1_BP_STA_REPORT": alive}))
        r = wait_scrape(exporter, lambda r: r.values(soc) == [0.6])
    assert [s.labels["pack"] for s in r.samples if s.name == soc] == ["PACK-NEW"]


def test_the_real_capture_through_mosquitto(broker, exporter_on):
    if not CAPTURE.is_file():
        pytest.skip("the captured payload is not beside the project")
    exporter = exporter_on(powerocean_config(broker))
    with Subscriber(broker) as device:
        device.publish(topic(), CAPTURE.read_bytes())
        device.publish(topic(), payload({"JTS1_EMS_HEARTBEAT": pb.JTS1_EMS_HEARTBEAT()}))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_module_info"))
    assert r.value("powerocean_inverter_run_state", state="RUN") == 1
    assert r.value("powerocean_grid_meter_power_watts") == pytest.approx(-3726.9, abs=0.05)
    assert r.value("powerocean_dc_bus_voltage_volts") == pytest.approx(770.3, abs=0.05)
    assert r.value("powerocean_ems_temperature_celsius") == pytest.approx(57.5, abs=0.05)
    assert r.value("powerocean_feed_in_power_limit_watts") == 30000
    assert r.value("powerocean_feed_in_limit_ratio") == 1.0
    strings = "powerocean_solar_string_power_watts"
    assert [r.value(strings, string=n, report="energy_stream") for n in "123"] == [2180, 1090, 880]
    assert r.value("powerocean_module_info", module="ems", firmware="3.0.19.15") == 1
    assert r.value("powerocean_module_info", module="4", firmware="4.0.6.75") == 1
    errors = "powerocean_decode_errors_total"
    assert r.value(errors, reason="unknown_command") == 2  # 96/22 and 96/14: empty, unnamed
    for kind in ("CHANGE", "SAFETY_PARAM", "STATE_CHANGE"):
        received = "powerocean_messages_received_total"
        assert r.value(received, message=f"JTS1_EMS_{kind}_REPORT") == 1


@pytest.mark.parametrize("serial", ["HC31DCFIT0000001", "R999TOLDBYINVENTORY"])
def test_a_dc_fit_is_read_with_its_own_layout(broker, exporter_on, serial):
    """By its serial prefix, or by the product type its module inventory names."""
    config = Config(
        powerocean=PowerOceanConfig(
            devices={serial: "fit"}, broker=BrokerConfig(url=broker.url, ca_file=broker.ca_file)
        )
    )
    exporter = exporter_on(config)
    model = DcFitModel(packs=PACKS, epoch=0)
    flows = model.flows(900.0)
    with Subscriber(broker) as device:
        device.publish(topic(serial), payload(model.messages(900.0), serial))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_battery_pack_module_state"))
    assert r.value("powerocean_grid_power_watts") == pytest.approx(flows["grid"], rel=1e-5)
    assert r.value("powerocean_load_power_watts") == pytest.approx(flows["load"], rel=1e-5)
    assert r.value("powerocean_solar_power_watts") == pytest.approx(flows["solar"], rel=1e-5)
    assert r.value("powerocean_grid_meter_power_watts") == pytest.approx(flows["grid"], rel=1e-5)
    assert r.value("powerocean_network_interface", state="NETIF_WIFI_STA") == 1
    pack_soc = "powerocean_battery_pack_state_of_charge_ratio"
    assert r.value(pack_soc, pack=PACKS[0]) == pytest.approx((flows["soc"] - 0.5) / 100, rel=1e-5)
    assert r.value("powerocean_battery_pack_module_state", pack=PACKS[1], state="NORMAL") == 1
    assert r.value("powerocean_decode_errors_total", reason="unknown_command") == 0


def test_a_plus_inventory_keeps_the_plus_layout(broker, exporter_on):
    exporter = exporter_on(powerocean_config(broker))
    inventory = pb.ModuleClusterInfo(module=[pb.ModuleInfo(product_type=87, addr=96)])
    stream = pb.JTS1_ENERGY_STREAM_REPORT(sysLoadPwr=390.0, sysGridPwr=-3770.0)
    with Subscriber(broker) as device:
        messages = {"MODULE_CLUSTER_INFO": inventory, "JTS1_ENERGY_STREAM_REPORT": stream}
        device.publish(topic(), payload(messages))
        r = wait_scrape(exporter, lambda r: r.has("powerocean_load_power_watts"))
    assert (r.value("powerocean_load_power_watts"), r.value("powerocean_grid_power_watts")) == (
        390,
        -3770,
    )

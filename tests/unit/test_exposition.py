"""The exposition writer: byte for byte what prometheus_client writes, in both formats."""

from __future__ import annotations

import gzip
import math
import platform
import random
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import pytest
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.utils import floatToGoString

from exporter import exposition
from exporter.exposition import (
    AnyFamily,
    Family,
    FamilyShape,
    InfoFamily,
    SeriesShape,
    negotiate,
    write,
)
from exporter.metrics import ChannelFamilies, Families, HealthMetric, build_info
from exporter.model import Channel, Kind
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest
from exporter.simulate.powerocean import PowerOceanModel, PowerOceanPublisher
from tests.support.scrape import PROMETHEUS_ACCEPT

#: Accept headers whose formats keep legacy names as they are (None: the text format).
ACCEPTS = {
    "text": None,
    "openmetrics": PROMETHEUS_ACCEPT,
    "openmetrics-utf8": "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8",
    "openmetrics-unversioned": "application/openmetrics-text",
    "text-1.0.0": "text/plain;version=1.0.0;escaping=allow-utf-8",
}
#: Escaping schemes that rewrite even legacy names: left to prometheus_client whole.
REWRITING_ACCEPTS = {
    "openmetrics-dots": "application/openmetrics-text;version=1.0.0;escaping=dots",
    "text-values": "text/plain;version=1.0.0;escaping=values",
}
#: Label values and help texts that need escaping.
AWKWARD = ("back\\slash", 'a "quote"', "new\nline", "ünïcødé ☀", "", "\\n literally")


class Collected:
    """Fixed families as prometheus_client's own, for its writers."""

    def __init__(self, families: Iterable[AnyFamily]) -> None:
        self.families = [
            f.to_metric() if isinstance(f, Family | InfoFamily) else f for f in families
        ]

    def collect(self) -> list[Metric]:
        return self.families


def assert_written_as_prometheus_client(families: Iterable[AnyFamily], accept: str | None) -> str:
    """Our bytes equal those of the encoder prometheus_client picks for ``accept``."""
    fixed = list(families)
    encoder, _ = choose_encoder(accept or "")
    ours = write(fixed, negotiate(accept))
    assert ours.decode() == encoder(Collected(fixed)).decode()
    return ours.decode()


def assert_parsed(families: Iterable[AnyFamily]) -> None:
    """Both formats parse with prometheus_client's parsers, to the same samples."""
    fixed = list(families)
    text = write(fixed, negotiate(None)).decode()
    openmetrics = write(fixed, negotiate(PROMETHEUS_ACCEPT)).decode()
    assert samples_of(parse_text(text)) == samples_of(parse_openmetrics(openmetrics))
    assert len(samples_of(parse_text(text))) == sum(
        len(f.samples) for f in Collected(fixed).collect()
    )


def samples_of(families: Iterable[Metric]) -> dict[tuple[str, tuple], str]:
    """Every sample by name and sorted labels; values as text, so that NaN equals NaN."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): floatToGoString(s.value)
        for f in families
        for s in f.samples
    }


def channel(kind: Kind, metric: str, **options: Any) -> Channel[None]:
    return Channel(
        seed_id="test.value", metric=metric, kind=kind, help="A value.", location=None, **options
    )


def every_kind() -> list[AnyFamily]:
    """A family of each kind the mappings make, with label values that need escaping."""
    adds = [
        (channel(Kind.GAUGE, "x_power_watts", scale=0.1), 1234),
        (channel(Kind.GAUGE, "x_big_joules"), 12_345_678_901),
        (channel(Kind.COUNTER, "x_energy_joules_total", scale=3600), 5),
        (channel(Kind.ENUM, "x_state", states={0: "off", 1: "on", 2: "fault"}), 7),
        (channel(Kind.BITFIELD, "x_alarm", bits={0: 'hot "core"', 3: "fan\\1"}), 0b10_0001),
        (channel(Kind.INFO, "x_device_info", info_label="firmware", text_format="version"), 1),
        (channel(Kind.INFO, "x_device_info", info_label="model"), "PowerOcean\nPlus ☀"),
        (channel(Kind.ARRAY, "x_cell_volts", index_label="cell", scale=0.001), (3301, 3299)),
        (channel(Kind.GAUGE, "x_phase_volts", labels=(("phase", "L1"),)), -230.5),
    ]
    channels = ChannelFamilies([ch for ch, _ in adds], ("serial", "pack"))
    families = Families()
    channels.add(families, [((value, "pack-1"), [raw for _, raw in adds]) for value in AWKWARD])
    return list(families)


def health_families() -> list[AnyFamily]:
    """The exporter's own families: health gauges and counters, build info."""
    up = HealthMetric("test", "x_up", Kind.GAUGE, "1 when \\ up\nor not.", ("serial",))
    sent = HealthMetric("test", "x_messages_total", Kind.COUNTER, 'Messages "sent".', ("kind",))
    silent = HealthMetric("test", "x_connected", Kind.GAUGE, "A family with no series.")
    return [
        up.family([(("a",), 1), (("b",), 0)]),
        silent.family([]),
        sent.family([((kind,), n) for n, kind in enumerate(AWKWARD)]),
        build_info("0.1.0", "unknown", "main", "3.11.7"),
    ]


def other_collectors() -> list[Metric]:
    """What other collectors may give: values floatToGoString writes in its own way, a unit,
    an info family made with its value."""
    family = GaugeMetricFamily("x_value", "Values.", labels=("v",))
    for value in (0.0, -0.0, 1, True, 1e6, 123456789.0, -1e6, 1e-7, 1e22, 2**53 + 1, 0.1 + 0.2):
        family.add_metric((repr(value),), value)
    for value in (math.inf, -math.inf, math.nan):
        family.add_metric((repr(value),), value)
    unit = GaugeMetricFamily("x_temperature_celsius", "With a unit.", value=20.0, unit="celsius")
    info = InfoMetricFamily("x_build", "Info.", value={"version": "1"})
    return [family, unit, info]


def left_to_prometheus_client() -> list[Metric]:
    """Families the writer hands on: other types, timestamps, _created, non-legacy names."""
    created = CounterMetricFamily("x_requests", "Requests.", labels=("code",), created=1.5e9)
    created.add_metric(("200",), 3, created=1.7e9)
    stamped = GaugeMetricFamily("x_stamped", "With a timestamp.")
    stamped.add_metric((), 1.0, timestamp=1_700_000_000.5)
    histogram = HistogramMetricFamily(
        "x_latency_seconds", "Latency.", buckets=[("0.1", 1), ("+Inf", 2)], sum_value=0.3
    )
    summary = SummaryMetricFamily("x_size_bytes", "Sizes.", count_value=2, sum_value=10)
    dotted = GaugeMetricFamily("x.dotted", "A UTF-8 name.", labels=("la.bel",))
    dotted.add_metric(("v",), 2.0)
    colon = GaugeMetricFamily("x:ratio", "A recording rule's name.", value=0.5)
    odd_label = GaugeMetricFamily("x_odd", "A UTF-8 label name.", labels=("é",))
    odd_label.add_metric(("v",), 1.0)
    return [created, stamped, histogram, summary, dotted, colon, odd_label]


def powerocean_scrape(systems: int = 2, packs: int = 4) -> list[AnyFamily]:
    """Every family of a PowerOcean scrape, from the simulator's messages ingested in-process."""
    mapping = load_powerocean_mapping()
    cache = MessageCache()
    serials = [f"R371TEST{i:04d}" for i in range(systems)]
    ingest = Ingest(mapping, cache, serials, stale_after=1e9)
    for serial in serials:
        model = PowerOceanModel(packs=[f"{serial}-P{i}" for i in range(packs)], epoch=0)
        publisher = PowerOceanPublisher("mqtt://127.0.0.1:1", serial, model=model)
        for name, message in model.messages(1000.0).items():
            ingest(f"/app/device/property/{serial}", publisher.payload({name: message}))
    collector = PowerOceanCollector(
        mapping, cache, ingest, None, devices=Devices({s: s for s in serials}), stale_after=1e9
    )
    return list(collector.collect())


def python_collectors() -> list[Metric]:
    return [f for c in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR) for f in c.collect()]


FAMILIES = {
    "every kind": every_kind,
    "health": health_families,
    "other collectors": other_collectors,
    "process, platform, gc": python_collectors,
    "powerocean": powerocean_scrape,
    "left to prometheus_client": left_to_prometheus_client,
}


#: The families this writer writes itself (the others parse differently by design: the text
#: format moves _created samples into a family of their own).
WRITTEN_HERE = {
    name: make for name, make in FAMILIES.items() if name != "left to prometheus_client"
}


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES.keys())
def test_every_family_is_written_as_prometheus_client_writes_it(make, accept):
    assert_written_as_prometheus_client(make(), accept)


@pytest.mark.parametrize("accept", REWRITING_ACCEPTS.values(), ids=REWRITING_ACCEPTS.keys())
def test_escaping_that_rewrites_names_is_left_to_prometheus_client(accept):
    assert_written_as_prometheus_client([*every_kind(), *powerocean_scrape(1, 1)], accept)


@pytest.mark.parametrize("make", WRITTEN_HERE.values(), ids=WRITTEN_HERE.keys())
def test_both_formats_parse_to_the_same_samples(make):
    assert_parsed(make())


def test_a_full_scrape_has_the_shape_prometheus_expects():
    families = [*python_collectors(), *powerocean_scrape()]
    text = assert_written_as_prometheus_client(families, None)
    openmetrics = assert_written_as_prometheus_client(families, PROMETHEUS_ACCEPT)
    assert "# TYPE powerocean_messages_received_total counter\n" in text
    assert "# TYPE powerocean_messages_received counter\n" in openmetrics
    assert "# TYPE powerocean_system_info gauge\n" in text
    assert "# TYPE powerocean_system info\n" in openmetrics
    assert openmetrics.endswith("# EOF\n") and not text.endswith("# EOF\n")
    assert "_created" not in text + openmetrics


def test_the_same_families_give_the_same_bytes_every_time():
    families = powerocean_scrape(1, 2)
    first = write(families, negotiate(PROMETHEUS_ACCEPT))
    assert write(families, negotiate(PROMETHEUS_ACCEPT)) == first


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        PROMETHEUS_ACCEPT,
        "text/plain;version=0.0.4",
        "text/plain;version=1.0.0",
        "text/plain;version=1.0.0;escaping=allow-utf-8",
        "application/openmetrics-text",
        "application/openmetrics-text;version=0.0.1",
        "application/openmetrics-text;version=1.0.0;escaping=dots,text/plain",
        "application/json, text/html;q=0.9",
        "*/*",
    ],
)
def test_the_format_is_negotiated_as_prometheus_client_does(accept):
    _, content_type = choose_encoder(accept or "")
    negotiated = negotiate(accept)
    assert negotiated.content_type == content_type
    assert negotiated.openmetrics == content_type.startswith("application/openmetrics-text")


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [("gzip", True), ("br, GZIP;q=0.5", True), (None, False), ("identity", False)],
)
def test_the_answer_is_gzipped_when_the_client_accepts_gzip(accept_encoding, gzipped):
    families = powerocean_scrape(1, 1)
    headers, body = exposition.answer(families, PROMETHEUS_ACCEPT, accept_encoding)
    expected = write(families, negotiate(PROMETHEUS_ACCEPT))
    assert dict(headers)["Content-Type"] == negotiate(PROMETHEUS_ACCEPT).content_type
    assert ("Content-Encoding", "gzip") in headers if gzipped else len(headers) == 1
    assert (gzip.decompress(body) if gzipped else body) == expected


def test_isal_compresses_where_the_dependency_installs_it():
    if platform.machine() not in ("x86_64", "AMD64", "aarch64", "arm64"):
        pytest.skip("ISA-L is not a dependency on this machine")
    assert exposition.deflate.__name__ == "isal.isal_zlib"


def test_without_isal_the_answer_is_gzipped_by_zlib():
    """Where ISA-L is not installed (32-bit ARM ...), the standard library compresses."""
    program = (
        "import gzip, sys\n"
        "sys.modules['isal'] = None\n"
        "from prometheus_client.core import GaugeMetricFamily\n"
        "from exporter import exposition\n"
        "family = GaugeMetricFamily('ess_test_volts', 'A test.', value=230.5)\n"
        "headers, body = exposition.answer([family], None, 'gzip')\n"
        "print(exposition.deflate.__name__, gzip.decompress(body).decode(), end='')\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        "zlib # HELP ess_test_volts A test.\n# TYPE ess_test_volts gauge\ness_test_volts 230.5\n"
    )


def values_written(values: Iterable[float]) -> list[str]:
    """The value texts of one series per value, as the writer writes them."""
    shape = SeriesShape(FamilyShape("gauge", "x_value", "Values."), ("n",))
    family = Family(shape.family)
    for i, value in enumerate(values):
        family.add(shape, (str(i),), value)
    lines = write([family], negotiate(None)).decode().splitlines()[2:]
    return [line.rpartition(" ")[2] for line in lines]


def test_values_are_written_as_prometheus_client_writes_them():
    rng = random.Random(8)
    values = [
        *(rng.uniform(-1e9, 1e9) for _ in range(2000)),
        *(10.0**exponent for exponent in range(-30, 30)),
        *(-(10.0**exponent) for exponent in range(-30, 30)),
        *(rng.randint(-(10**12), 10**12) for _ in range(500)),
        *(float(n) for n in range(-1000, 1000)),
        999_999.0,
        1_000_000.0,
        999_999.5,
        5e-324,
        1.7976931348623157e308,
        0.0,
        -0.0,
        1,
        True,
        False,
        math.inf,
        -math.inf,
        math.nan,
    ]
    assert values_written(values) == [floatToGoString(v) for v in values]


def test_a_family_shape_takes_legacy_names_only():
    with pytest.raises(ValueError, match="legacy"):
        FamilyShape("gauge", "x.dotted", "A UTF-8 name.")
    with pytest.raises(ValueError, match="legacy"):
        SeriesShape(FamilyShape("gauge", "x_value", "A UTF-8 label."), ("é",))


def test_a_constant_label_value_may_hold_a_percent_sign():
    shape = SeriesShape(FamilyShape("gauge", "x_value", "Values."), ("n",), (("unit", "%"),))
    family = Family(shape.family)
    family.add(shape, ("1",), 2.0)
    assert_written_as_prometheus_client([family], None)
    assert 'x_value{n="1",unit="%"} 2.0' in write([family], negotiate(None)).decode()

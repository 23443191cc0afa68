"""Metric families -> the answer to one scrape: text format 0.0.4 or OpenMetrics 1.0, as the
client's Accept header asks, gzip'd when it accepts gzip.

prometheus_client's ``generate_latest`` checks and escapes every label of every sample on
every scrape; with thousands of series that is most of a scrape's time. ``Exposition``
writes the same bytes from strings it keeps between scrapes: each label set (names sorted,
values escaped) is formatted once, each label value escaped once, each family's ``# HELP``
and ``# TYPE`` lines made once. What it does not write itself it leaves to prometheus_client,
family by family, so any collector's families come out as prometheus_client writes them:
types other than gauge, counter and info, samples with timestamps or exemplars, counters
with ``_created`` samples, names outside the legacy character set, and escaping schemes
that rewrite legacy names (``dots``, ``values``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import exposition as text_exposition
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics_exposition

from exporter.metrics import Chunk, SeriesFamily

try:  # ISA-L's deflate, where its wheels are built (x86-64 and 64-bit ARM)
    from isal import isal_zlib as deflate
except ImportError:  # elsewhere (32-bit ARM ...) the standard library's, at the same level
    import zlib as deflate  # type: ignore[no-redef]

#: Measured on /metrics of 10 PowerOcean systems x 4 packs (686 KB of OpenMetrics), the
#: fastest of 9 rounds. ISA-L level 1: 0.27 ms to 40 KB; level 0 is as fast but 50 KB,
#: level 3 takes five times as long for 39 KB. zlib (without ISA-L) level 1: 2.2 ms to
#: 40 KB, level 6 5.7 ms to 36 KB, level 9 (prometheus_client's) 21 ms to 31 KB. Level 1
#: already removes 94 % of the bytes in both, for a fraction of the time of the next.
GZIP_LEVEL = 1
#: The gzip header and trailer written by the compressor itself (a header without a time).
_GZIP_WBITS = 31

#: Escaping schemes that leave a legacy name as it is: the only ones written here.
_KEEPS_LEGACY_NAMES = ("underscores", "allow-utf-8")

#: A legacy metric or label name without a colon (OpenMetrics would escape a colon in a
#: sample name but not in the family's name).
_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

#: The family types written here: the suffix of their samples' name, and the type the text
#: format gives them (it has no info type).
_SAMPLE_SUFFIX = {"gauge": "", "counter": "_total", "info": "_info"}
_TEXT_TYPE = {"gauge": "gauge", "counter": "counter", "info": "gauge"}

#: Label sets (about 370 bytes each) and label values kept at most; past this a cache starts
#: again, so series that come and go (targets of /probe) cannot grow it without bound.
CACHE_LIMIT = 50_000

#: Series lines kept at most (about 300 bytes each): 100 PowerOcean systems are 60,000.
SERIES_CACHE_LIMIT = 200_000
#: A ``SeriesFamily`` series: sample name, label names, label values.
_SeriesKey = tuple[str, tuple[str, ...], tuple[str, ...]]
#: A series' last value, its line, and the line up to the value.
_Line = tuple[float, str, str]

#: Families' sample lines kept at most (one per label sets, the last values written): a
#: REFU target has about 70 families, so this covers well over 1,000 /probe targets.
FAMILY_CACHE_LIMIT = 100_000

#: The strings prometheus_client writes for float values that ``repr`` names differently.
_NOT_FINITE = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}


#: The values of most enum state and alarm bit series, written without formatting them.
#: -0.0 equals 0.0: a ``SeriesFamily`` writes it as 0.0.
_COMMON_VALUES = {0.0: "0.0", 1.0: "1.0"}


def go_float(value: float) -> str:
    """``value`` as prometheus_client's ``floatToGoString`` writes it (1.0, 1e+06, +Inf, NaN).

    Go switches to an exponent from 1e+06 up (positive values only, as prometheus_client).
    """
    text = repr(float(value))
    dot = text.find(".")
    if dot > 6 and text[0] != "-":
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    if dot < 0:
        return _NOT_FINITE.get(text, text)
    return text


@dataclass(frozen=True)
class Format:
    """What one client gets: OpenMetrics or the text format, and how names are escaped."""

    openmetrics: bool
    content_type: str
    escaping: str = "underscores"
    version: str = "1.0.0"


@functools.lru_cache(maxsize=256)
def negotiate(accept: str | None) -> Format:
    """The format prometheus_client's ``choose_encoder`` picks for this Accept header
    (OpenMetrics when ``application/openmetrics-text`` is accepted), chosen by it; kept for
    the few headers scrapers send."""
    _, content_type = text_exposition.choose_encoder(accept or "")
    media, *parameters = (part.strip() for part in content_type.split(";"))
    values = dict(parameter.split("=", 1) for parameter in parameters)
    return Format(
        openmetrics=media == "application/openmetrics-text",
        content_type=content_type,
        escaping=values.get("escaping", "underscores"),
        version=values.get("version", "1.0.0"),
    )


class _Irregular(Exception):
    """A family holds something ``Exposition`` leaves to prometheus_client."""


@dataclass(frozen=True)
class _Head:
    """A family's ``# HELP``/``# TYPE`` (and ``# UNIT``) lines and its samples' name."""

    lines: str
    sample_name: str


class Exposition:
    """Writes metric families as prometheus_client does, from strings kept between scrapes.

    One instance serves every request; the caches are plain dicts, filled and read whole
    entry by whole entry, so concurrent scrapes share them safely.
    """

    def __init__(self) -> None:
        self._heads: dict[tuple[Any, ...], _Head | None] = {}
        self._label_sets: dict[tuple[tuple[str, str], ...], str] = {}
        self._label_values: dict[str, str] = {}
        #: The values and sample lines of ``SeriesFamily`` series, by sample name, label
        #: names and each series' label values.
        self._series_texts: dict[tuple[Any, ...], tuple[tuple[float, ...], str]] = {}
        #: The last value and line written of each ``SeriesFamily`` series.
        self._series_lines: dict[_SeriesKey, _Line] = {}
        #: Label names seen to be legacy names (those come from code, so they are few).
        self._legacy_label_names: set[str] = set()
        #: Label sets of ``SeriesFamily`` series, by label names and values.
        self._series_label_sets: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
        #: Each family's label names in the order written (also from code: few).
        self._name_orders: dict[tuple[str, ...], tuple[tuple[int, str], ...]] = {}

    def answer(
        self, families: Iterable[Metric], accept: str | None, accept_encoding: str | None
    ) -> tuple[list[tuple[str, str]], bytes]:
        """The headers and body of a 200 answer holding ``families``."""
        negotiated = negotiate(accept)
        body = self.write(families, negotiated)
        headers = [("Content-Type", negotiated.content_type)]
        if text_exposition.gzip_accepted(accept_encoding or ""):
            body = deflate.compress(body, GZIP_LEVEL, _GZIP_WBITS)
            headers.append(("Content-Encoding", "gzip"))
        return headers, body

    def write(self, families: Iterable[Metric], negotiated: Format) -> bytes:
        """The exposition of ``families`` in the negotiated format."""
        out: list[str] = []
        for family in families:
            start = len(out)
            try:
                if type(family) is SeriesFamily and not family.series and len(family.chunks) == 1:
                    out.append(self._family_of_one_chunk(family, negotiated))
                else:
                    self._write_family(family, negotiated, out)
            except _Irregular:
                del out[start:]
                out.append(_written_by_prometheus_client(family, negotiated))
        if negotiated.openmetrics:
            out.append("# EOF\n")
        return "".join(out).encode()

    def _family_of_one_chunk(self, family: SeriesFamily, negotiated: Format) -> str:
        """A family of one chunk (a device's or a merged group's), written once per format
        and kept with the chunk, which does not change once made."""
        if negotiated.escaping not in _KEEPS_LEGACY_NAMES:
            raise _Irregular
        (chunk,) = family.chunks
        texts = chunk.family_texts
        if texts is None:
            texts = chunk.family_texts = {}
        text = texts.get(negotiated.openmetrics)
        if text is None:
            lines: list[str] = []
            self._write_family(family, negotiated, lines)
            text = texts[negotiated.openmetrics] = "".join(lines)
        return text

    def _write_family(self, family: Metric, negotiated: Format, out: list[str]) -> None:
        head = self._head(family, negotiated)
        out.append(head.lines)
        name = head.sample_name
        if type(family) is SeriesFamily:
            self._write_series(family, name, out)
            return
        label_sets = self._label_sets
        for sample in family.samples:
            if (
                sample.name != name
                or sample.timestamp is not None
                or sample.exemplar is not None
                or sample.native_histogram is not None
            ):
                raise _Irregular
            labels = ""
            if sample.labels:
                key = tuple(sample.labels.items())
                labels = label_sets.get(key) or self._label_set(key)
            out.append(f"{name}{labels} {go_float(sample.value)}\n")

    def _write_series(self, family: SeriesFamily, name: str, out: list[str]) -> None:
        """The samples of a ``SeriesFamily``: its series as written the last time the family
        held the same series with the same values (most of a device's enum and alarm
        families change seldom), then its chunks' text."""
        names, series = family.label_names, family.series
        if series:
            key = (name, names, tuple([labels for labels, _ in series]))
            values = tuple([value for _, value in series])
            kept_series = self._series_texts.get(key)
            if kept_series is None or kept_series[0] != values:
                if len(self._series_texts) >= FAMILY_CACHE_LIMIT:
                    self._series_texts.clear()
                kept_series = self._series_texts[key] = (
                    values,
                    self._series_text(series, name, names),
                )
            out.append(kept_series[1])
        for chunk in family.chunks:
            out.append(chunk.text or self._chunk_text(chunk, name, names))

    def _chunk_text(self, chunk: Chunk, name: str, names: tuple[str, ...]) -> str:
        members = [m.text or self._chunk_text(m, name, names) for m in chunk.members]
        chunk.text = self._series_text(chunk.series, name, names) + "".join(members)
        return chunk.text

    def _series_text(
        self, series: Iterable[tuple[tuple[str, ...], float]], name: str, names: tuple[str, ...]
    ) -> str:
        """Sample lines of series: no label dict and no ``Sample`` on the way, and a series
        whose value did not change is the line written last time."""
        written = self._series_lines
        lines = []
        for values, value in series:
            key = (name, names, values)
            last = written.get(key)
            if last is None or last[0] != value:
                last = self._series_line(key, value, last)
            lines.append(last[1])
        return "".join(lines)

    def _series_line(self, key: _SeriesKey, value: float, last: _Line | None) -> _Line:
        """The line of a series whose value changed (``last``: its line before, if kept)."""
        if last is None:
            name, names, values = key
            prefix = f"{name}{self._series_labels(names, values)} " if values else f"{name} "
            if len(self._series_lines) >= SERIES_CACHE_LIMIT:
                self._series_lines.clear()
        else:
            prefix = last[2]
        value_text = _COMMON_VALUES.get(value) or go_float(value)
        line = self._series_lines[key] = (value, f"{prefix}{value_text}\n", prefix)
        return line

    def _series_labels(self, names: tuple[str, ...], values: tuple[str, ...]) -> str:
        """``{a="x",b="y"}`` of one series, kept: most families of a device are one series
        with the same labels. A family's label names are put in order and checked once,
        so a new label set (a new /probe target's) costs its values only."""
        key = (names, values)
        text = self._series_label_sets.get(key)
        if text is None:
            order = self._name_orders.get(names) or self._name_order(names)
            escaped = self._label_values
            pairs = [
                f'{opening}{escaped.get(values[i]) or self._label_value(values[i])}"'
                for i, opening in order
            ]
            if len(self._series_label_sets) >= CACHE_LIMIT:
                self._series_label_sets.clear()
            text = self._series_label_sets[key] = "{" + ",".join(pairs) + "}"
        return text

    def _name_order(self, names: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
        """Where each label of ``names`` goes when sorted by name, and its ``name="``."""
        for name in names:
            if name not in self._legacy_label_names:
                self._check_label_name(name)
        positions = sorted(range(len(names)), key=names.__getitem__)
        order = self._name_orders[names] = tuple((i, f'{names[i]}="') for i in positions)
        return order

    def _head(self, family: Metric, negotiated: Format) -> _Head:
        if negotiated.escaping not in _KEEPS_LEGACY_NAMES:
            raise _Irregular
        key = (negotiated.openmetrics, family.type, family.name, family.documentation, family.unit)
        if key not in self._heads:
            self._heads[key] = _head(*key)
        head = self._heads[key]
        if head is None:
            raise _Irregular
        return head

    def _label_set(self, key: tuple[tuple[str, str], ...]) -> str:
        """``{a="x",b="y"}``: names sorted, values escaped, as both formats write it."""
        legacy, escaped = self._legacy_label_names, self._label_values
        pairs = []
        for name, value in sorted(key):
            if name not in legacy:
                self._check_label_name(name)
            pairs.append(f'{name}="{escaped.get(value) or self._label_value(value)}"')
        if len(self._label_sets) >= CACHE_LIMIT:
            self._label_sets.clear()
        text = self._label_sets[key] = "{" + ",".join(pairs) + "}"
        return text

    def _check_label_name(self, name: str) -> None:
        if not _LEGACY_NAME.fullmatch(name):
            raise _Irregular
        self._legacy_label_names.add(name)

    def _label_value(self, value: str) -> str:
        if len(self._label_values) >= CACHE_LIMIT:
            self._label_values.clear()
        escaped = self._label_values[value] = _escape(value, quotes=True)
        return escaped


def _head(openmetrics: bool, kind: str, name: str, documentation: str, unit: str) -> _Head | None:
    """The lines before a family's samples, or None for a family left to prometheus_client."""
    suffix = _SAMPLE_SUFFIX.get(kind)
    if suffix is None or not _LEGACY_NAME.fullmatch(name):
        return None
    if openmetrics:
        lines = f"# HELP {name} {_escape(documentation, quotes=True)}\n# TYPE {name} {kind}\n"
        if unit:
            lines += f"# UNIT {name} {unit}\n"
    else:
        # The text format names the family after its samples: name_total, name_info.
        shown = name + suffix
        lines = f"# HELP {shown} {_escape(documentation, quotes=False)}\n"
        lines += f"# TYPE {shown} {_TEXT_TYPE[kind]}\n"
    return _Head(lines, name + suffix)


def _escape(text: str, *, quotes: bool) -> str:
    """Backslash and newline escaped, and double quotes too where the format asks."""
    text = text.replace("\\", r"\\").replace("\n", r"\n")
    return text.replace('"', r"\"") if quotes else text


class _OneFamily:
    """A collector of one family, for prometheus_client's writers."""

    def __init__(self, family: Metric) -> None:
        self._family = family

    def collect(self) -> list[Metric]:
        return [self._family]


def _written_by_prometheus_client(family: Metric, negotiated: Format) -> str:
    """One family as prometheus_client writes it in the negotiated format."""
    one = _OneFamily(family)
    if negotiated.openmetrics:
        text = openmetrics_exposition.generate_latest(
            one, escaping=negotiated.escaping, version=negotiated.version
        ).decode()
        return text.removesuffix("# EOF\n")
    return text_exposition.generate_latest(one, escaping=negotiated.escaping).decode()

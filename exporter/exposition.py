"""Metric families -> the answer to one scrape: text format 0.0.4 or OpenMetrics 1.0, as the
client's Accept header asks, gzip'd when it accepts gzip.

The exporter's own families (``Family``, ``InfoFamily``: of the mappings or of the
exporter's health) are written here, byte for byte as prometheus_client writes them; the
rest (the process and Python collectors, and every family when the client asks for an
escaping scheme that rewrites names) is written by prometheus_client itself. Nothing is kept
between scrapes: what the mapping fixes (a family's ``# HELP``/``# TYPE`` lines, the sample
line of each kind of series with its constant labels) is written once, with the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

from prometheus_client import exposition as text_exposition
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

deflate: ModuleType
try:  # ISA-L's deflate, where its wheels are built (x86-64 and 64-bit ARM)
    from isal import isal_zlib as deflate
except ImportError:  # elsewhere (32-bit ARM ...) the standard library's, at the same level
    import zlib as deflate

#: Level 1 already removes 94 % of the bytes of a /metrics (ISA-L: 0.3 ms for 686 KB of
#: OpenMetrics; zlib 2.2 ms), for a fraction of the time of the next levels
#: (prometheus_client's 9: 21 ms to save another 9 KB).
GZIP_LEVEL = 1
#: Window bits that make the compressor write a gzip header and trailer itself.
_GZIP_WBITS = 31

#: Escaping schemes that leave a legacy name as it is: the only ones written here.
_KEEPS_LEGACY_NAMES = ("underscores", "allow-utf-8")
#: A legacy metric or label name (all names of this exporter are).
_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
#: What a label value needs escaped: backslash, double quote, newline.
_NEEDS_ESCAPE = re.compile(r'[\\"\n]')

FamilyType = Literal["gauge", "counter", "info"]
#: The suffix of a family's samples' name, by type.
_SAMPLE_SUFFIX = {"gauge": "", "counter": "_total", "info": "_info"}


@dataclass(frozen=True)
class FamilyShape:
    """What stays the same from scrape to scrape of a family: its type, name and help
    text, and the ``# HELP``/``# TYPE`` lines they make, written once here.

    A counter's ``name`` may be given with or without ``_total``, an info family's with or
    without ``_info``.
    """

    type: FamilyType
    name: str
    help: str
    sample_name: str = field(init=False)
    text_head: str = field(init=False)
    openmetrics_head: str = field(init=False)

    def __post_init__(self) -> None:
        suffix = _SAMPLE_SUFFIX[self.type]
        name = self.name.removesuffix(suffix) if suffix else self.name
        _check_name(name)
        sample_name = name + suffix
        # The text format names a family after its samples and has no info type; OpenMetrics
        # names it after itself.
        text_help = self.help.replace("\\", r"\\").replace("\n", r"\n")
        text_type = "gauge" if self.type == "info" else self.type
        text_head = f"# HELP {sample_name} {text_help}\n# TYPE {sample_name} {text_type}\n"
        openmetrics_head = f"# HELP {name} {_escape(self.help)}\n# TYPE {name} {self.type}\n"
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "sample_name", sample_name)
        object.__setattr__(self, "text_head", text_head)
        object.__setattr__(self, "openmetrics_head", openmetrics_head)


@dataclass(frozen=True)
class SeriesShape:
    """The labels of one kind of series of a family: ``constant`` ones, the same in every
    such series (a phase, an enum state, an alarm bit), and ``varying`` ones, whose values
    come with each series (a device's serial). Made once, with the mapping.

    ``varying`` is sorted by name, and a series gives its values in that order; ``line``
    is the sample line with the constant labels written, to fill in with ``%`` and the
    varying values, then the value's text.
    """

    family: FamilyShape
    varying: tuple[str, ...]
    constant: tuple[tuple[str, str], ...] = ()
    line: str = field(init=False)

    def __post_init__(self) -> None:
        if list(self.varying) != sorted(self.varying):
            raise ValueError(f"varying labels {self.varying} are not sorted by name")
        written = {name: "%s" for name in self.varying}
        for name, value in self.constant:
            written[name] = _escape(value).replace("%", "%%")
        if len(written) != len(self.varying) + len(self.constant):
            raise ValueError(f"a label of {self.family.name} is given twice")
        for name in written:
            _check_name(name)
        labels = ",".join(f'{name}="{written[name]}"' for name in sorted(written))
        start = f"{self.family.sample_name}{{{labels}}}" if labels else self.family.sample_name
        object.__setattr__(self, "line", f"{start} %s\n")

    def labels(self, values: Sequence[str]) -> dict[str, str]:
        """Every label of a series whose varying labels have ``values``."""
        return {**dict(zip(self.varying, values, strict=True)), **dict(self.constant)}


class Family:
    """A gauge or counter family of one scrape: a shape and its series.

    The series are three columns of equal length: each one's shape, the values of its
    varying labels, and its value (a float). Columns rather than a tuple per series, so that a
    scrape leaves the garbage collector nothing new to trace: a tuple that holds a shape is
    traced until it dies, and 60,000 of them (100 systems) made Python's collector walk the
    whole heap in nearly every scrape, costing as much as the collecting itself.

    ``escape``: whether a varying label value holds a character to escape (backslash,
    double quote, newline): rarely, as device names and serials seldom do, so that the
    values are looked at once per device, not in each line.
    """

    __slots__ = ("escape", "labels", "shape", "shapes", "values")

    def __init__(self, shape: FamilyShape) -> None:
        if shape.type == "info":
            raise ValueError(f"{shape.name} is an info family")
        self.shape = shape
        self.shapes: list[SeriesShape] = []
        self.labels: list[tuple[str, ...]] = []
        self.values: list[float] = []
        self.escape = False

    @property
    def name(self) -> str:
        return self.shape.name

    def add(self, shape: SeriesShape, labels: tuple[str, ...], value: float) -> None:
        """One series: ``labels`` are the values of ``shape``'s varying labels."""
        self.shapes.append(shape)
        self.labels.append(labels)
        self.values.append(float(value))

    def to_metric(self) -> Metric:
        """The same family as prometheus_client's own, for its writers and parsers."""
        shape = self.shape
        metric = Metric(shape.name, shape.help, shape.type)
        metric.samples = [
            Sample(shape.sample_name, series.labels(labels), value)
            for series, labels, value in zip(self.shapes, self.labels, self.values, strict=True)
        ]
        return metric


def needs_escaping(values: Iterable[str]) -> bool:
    """Whether a label value holds a backslash, a double quote or a newline."""
    return _NEEDS_ESCAPE.search("".join(values)) is not None


class InfoFamily:
    """An info family of one scrape: one series of value 1 per set of label texts."""

    __slots__ = ("series", "shape")

    def __init__(self, shape: FamilyShape) -> None:
        if shape.type != "info":
            raise ValueError(f"{shape.name} is not an info family")
        self.shape = shape
        self.series: list[dict[str, str]] = []

    @property
    def name(self) -> str:
        return self.shape.name

    def add(self, labels: dict[str, str]) -> None:
        for name in labels:
            _check_name(name)
        self.series.append(labels)

    def to_metric(self) -> Metric:
        """The same family as prometheus_client's own, for its writers and parsers."""
        shape = self.shape
        metric = Metric(shape.name, shape.help, shape.type)
        metric.samples = [Sample(shape.sample_name, labels, 1.0) for labels in self.series]
        return metric


def _check_name(name: str) -> None:
    if not _LEGACY_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a legacy Prometheus name")


#: What a collector yields: the exporter's families, or any of prometheus_client's.
AnyFamily = Family | InfoFamily | Metric
#: The families written here.
_OURS = (Family, InfoFamily)


@dataclass(frozen=True)
class Format:
    """What one client gets, as prometheus_client's ``choose_encoder`` picks it for the
    client's Accept header: a content type, and prometheus_client's writer of it."""

    content_type: str
    encoder: Callable[[Collector], bytes]

    @property
    def openmetrics(self) -> bool:
        return self.content_type.startswith("application/openmetrics-text")

    @property
    def keeps_legacy_names(self) -> bool:
        """Whether the escaping scheme leaves a legacy name as it is (the default does)."""
        return self.content_type.partition("escaping=")[2] in ("", *_KEEPS_LEGACY_NAMES)


def negotiate(accept: str | None) -> Format:
    """The format prometheus_client picks for this Accept header (OpenMetrics when
    ``application/openmetrics-text`` is accepted)."""
    encoder, content_type = text_exposition.choose_encoder(accept or "")
    return Format(content_type, encoder)


def answer(
    families: Iterable[AnyFamily], accept: str | None, accept_encoding: str | None
) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of a 200 answer holding ``families``."""
    negotiated = negotiate(accept)
    body = write(families, negotiated)
    headers = [("Content-Type", negotiated.content_type)]
    if text_exposition.gzip_accepted(accept_encoding or ""):
        body = deflate.compress(body, GZIP_LEVEL, _GZIP_WBITS)
        headers.append(("Content-Encoding", "gzip"))
    return headers, body


def write(families: Iterable[AnyFamily], negotiated: Format) -> bytes:
    """The exposition of ``families`` in the negotiated format."""
    ours_too = not negotiated.keeps_legacy_names  # names to rewrite: theirs
    openmetrics = negotiated.openmetrics
    out: list[str] = []
    theirs: list[Metric] = []
    for family in families:
        if not isinstance(family, _OURS):
            theirs.append(family)
        elif ours_too:
            theirs.append(family.to_metric())
        else:
            if theirs:
                out.append(_by_prometheus_client(theirs, negotiated))
                theirs = []
            shape = family.shape
            out.append(shape.openmetrics_head if openmetrics else shape.text_head)
            if isinstance(family, Family):
                _write_series(family, out)
            else:
                _write_info(family, out)
    if theirs:
        out.append(_by_prometheus_client(theirs, negotiated))
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out).encode()


def _write_series(family: Family, out: list[str]) -> None:
    """A family's sample lines. A value under a million in magnitude is written by
    ``repr``, as ``floatToGoString`` writes it too (twice as fast); larger ones and NaN by it."""
    labels = family.labels
    if family.escape:
        labels = [tuple(map(_escape, values)) for values in labels]
    out += [
        shape.line % (*values, repr(v) if -1e6 < v < 1e6 else floatToGoString(v))
        for shape, values, v in zip(family.shapes, labels, family.values, strict=True)
    ]


def _write_info(family: InfoFamily, out: list[str]) -> None:
    name = family.shape.sample_name
    for labels in family.series:
        texts = ",".join(f'{label}="{_escape(text)}"' for label, text in sorted(labels.items()))
        out.append(f"{name}{{{texts}}} 1.0\n")


def _escape(text: str) -> str:
    """Backslash, newline and double quote escaped, as label values and OpenMetrics help."""
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


class _Collected(Collector):
    """Families as a collector, for prometheus_client's writers."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _by_prometheus_client(families: Sequence[Metric], negotiated: Format) -> str:
    """``families`` as prometheus_client writes them in the negotiated format (no ``# EOF``)."""
    return negotiated.encoder(_Collected(families)).decode().removesuffix("# EOF\n")

"""Channels and raw values -> Prometheus metric families.

This is the only module that knows how a device value is shown to Prometheus: scaling,
enum and bitfield expansion, info series, array index labels, and the families of the
metrics the exporter makes itself (``HealthMetric``, defined by each device's collector).
It knows no device. Families are put together fresh for every scrape, so a label set that
disappears from the device disappears from the exposition; what goes into them (a device's
``Part``) is built again only for the values that changed.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import InfoMetricFamily, Metric
from prometheus_client.samples import Sample

from exporter.model import Channel, Kind

#: Kinds whose value is one series as it is (scaled).
_PLAIN = frozenset({Kind.GAUGE, Kind.COUNTER})
#: The label of a set bit that the mapping does not describe.
UNDOCUMENTED = "undocumented"
_ALL_BITS = (1 << 64) - 1

Number = int | float
#: Series of a family: (label values, value) pairs.
Series = tuple[tuple[tuple[str, ...], Number], ...]


#: The ``source`` of the rows of ``ess-exporter metrics`` that no mapping entry makes.
HEALTH_SOURCE = "exporter"


def describe(channel: Channel[Any], device: str, device_labels: Sequence[str]) -> dict[str, Any]:
    """One row of ``ess-exporter metrics``; ``device_labels`` identify the measured thing."""
    return {
        "device": device,
        "source": channel.seed_id,
        "metric": channel.metric,
        "kind": str(channel.kind),
        "unit": channel.unit,
        "scale": channel.scale,
        "help": channel.help,
        "labels": dict(channel.labels),
        "label_names": [*device_labels, *channel.label_names, *_expansion_labels(channel)],
        "states": {str(k): v for k, v in channel.states.items()},
        "bits": {str(k): v for k, v in channel.bits.items()},
    }


def describe_health(metric: HealthMetric) -> dict[str, Any]:
    """The row of a metric the exporter makes itself, in the same shape."""
    return {
        "device": metric.device,
        "source": HEALTH_SOURCE,
        "metric": metric.name,
        "kind": str(metric.kind),
        "unit": metric.unit,
        "scale": 1.0,
        "help": metric.help,
        "labels": {},
        "label_names": list(metric.labels),
        "states": {},
        "bits": {},
    }


def _expansion_labels(channel: Channel[Any]) -> tuple[str, ...]:
    """The labels one value gains on its way out: enum state, alarm bit, array index, text."""
    if channel.kind is Kind.ENUM:
        return ("state",)
    if channel.kind is Kind.BITFIELD:
        return ("bit", "alarm")
    if channel.kind is Kind.ARRAY:
        return (channel.index_label,)
    if channel.kind is Kind.INFO:
        return (channel.info_label,)
    return ()


@functools.cache
def _divisor(scale: float) -> float | None:
    """1/scale when that is a whole number (0.01 -> 100), else None."""
    inverse = 1 / scale
    return round(inverse) if abs(inverse - round(inverse)) < 1e-9 else None


def scaled(raw: Number, scale: float) -> float:
    """raw x scale; 82 x 0.01 gives 0.82, not 0.8200000000000001."""
    if scale == 1:
        return raw
    divisor = _divisor(scale) if -1 < scale < 1 else None
    return raw / divisor if divisor else raw * scale


class SeriesFamily(Metric):
    """A gauge or counter family kept as (label values, value) pairs.

    ``series`` holds pairs added one by one; ``chunks`` holds the ``Chunk``s of ``Part``s,
    the same objects (in the same tuple) from scrape to scrape while their values stay the
    same.
    ``exporter.exposition`` writes both with texts it keeps between scrapes, so a scrape
    builds no label dict and no ``Sample`` per series; ``samples`` builds them for every
    other reader, ``series`` first. A counter's name is given with or without ``_total``.
    A value of -0.0 is written as 0.0.
    """

    def __init__(self, kind: Kind, name: str, help_text: str, label_names: Sequence[str]):
        counter = kind is Kind.COUNTER
        name = name.removesuffix("_total") if counter else name
        super().__init__(name, help_text, "counter" if counter else "gauge")
        self.sample_name = name + "_total" if counter else name
        self.label_names = tuple(label_names)
        self.series: list[tuple[tuple[str, ...], Number]] = []
        self.chunks: tuple[Chunk, ...] = ()

    @property  # type: ignore[override]
    def samples(self) -> list[Sample]:
        names, name = self.label_names, self.sample_name
        return [
            Sample(name, dict(zip(names, values, strict=True)), v)
            for values, v in itertools.chain(self.series, *(c.every_series() for c in self.chunks))
        ]

    @samples.setter
    def samples(self, samples: list[Sample]) -> None:
        """Only ``Metric.__init__`` sets samples (to none): series are added to ``series``."""
        if samples:
            raise AttributeError("add series to SeriesFamily.series")

    def add_metric(self, labels: Sequence[str], value: Number) -> None:
        self.series.append((tuple(labels), value))

    def empty_copy(self) -> SeriesFamily:
        """A family of the same name, kind, help and labels, holding no series; made without
        checking its name again, which a family for every device of a scrape would cost."""
        family = SeriesFamily.__new__(SeriesFamily)
        family.__dict__.update(self.__dict__, series=[], chunks=())
        return family


@functools.cache
def _empty_family(channel: Channel[Any], device_labels: tuple[str, ...]) -> SeriesFamily:
    """The family of a channel's series, with no series: copied for each scrape."""
    label_names = (*device_labels, *channel.label_names, *_expansion_labels(channel))
    return SeriesFamily(channel.kind, channel.metric, channel.help, label_names)


class Chunk:
    """Series of one family, never changed once built: those of one device (``series``),
    or the chunks of many devices (``members``: a family of a merged ``Part``).

    ``text`` and ``family_texts`` are for the exposition: the sample lines it wrote of
    them, and by format the whole family when it held only this chunk, kept with them so
    that a chunk shared by many scrapes is written once. A chunk belongs to one family.
    """

    __slots__ = ("family_texts", "members", "series", "text")

    def __init__(self, series: Series = (), members: tuple[Chunk, ...] = ()) -> None:
        self.series = series
        self.members = members
        self.text: str | None = None
        self.family_texts: dict[bool, str] | None = None

    def every_series(self) -> Iterator[tuple[tuple[str, ...], Number]]:
        yield from self.series
        for member in self.members:
            yield from member.every_series()

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Chunk):
            return NotImplemented
        return self.series == other.series and self.members == other.members

    __hash__ = None  # type: ignore[assignment]


#: An info series in the making: the channel, its label values, and the text it adds.
InfoText = tuple[Channel[Any], tuple[str, ...], str]


@dataclass(frozen=True, eq=False)
class Part:
    """What some channels of one or more devices gave, built once.

    ``PartLayout.part`` makes the part of one device, ``Part.merge`` one of many. A
    collector keeps a part while the reports it was built from are the same objects, and
    adds it to each scrape's families with ``FamilyBuilder.add_part``: a family then holds
    the same chunks as in the last scrape, whose text the exposition kept.
    """

    #: The metrics the part may hold series of, an empty family of each, and its chunks of
    #: each (none for a family the part does not add to).
    metrics: tuple[str, ...]
    empty: tuple[SeriesFamily, ...]
    chunks: tuple[tuple[Chunk, ...], ...]
    info: tuple[InfoText, ...]
    #: The raw value of each channel of a device's part (none for a merged part).
    raws: tuple[Any, ...] = ()
    #: The family of each metric's chunks as ``family`` made it, by position: carried to
    #: the next part of the same device or group with the chunks it holds.
    made: dict[int, SeriesFamily] = field(default_factory=dict)

    def family(self, position: int) -> SeriesFamily:
        """The family holding only the part's chunks of one metric, made once: it is not
        changed once made, so scrapes share it (and the text written of it)."""
        family = self.made.get(position)
        if family is None:
            family = self.made[position] = self.empty[position].empty_copy()
            family.chunks = self.chunks[position]
        return family

    def carried(self, kept: Iterable[int]) -> dict[int, SeriesFamily]:
        """The families made of the chunks at the positions ``kept``, for the next part."""
        return {position: self.made[position] for position in kept if position in self.made}

    @staticmethod
    def merge(parts: Sequence[Part]) -> Part:
        """One part holding what ``parts`` hold, in their order: one chunk per family, whose
        members are the parts' chunks of it."""
        info = tuple(itertools.chain.from_iterable(part.info for part in parts))
        if not parts:
            return Part((), (), (), info)
        first = parts[0]
        if all(part.metrics == first.metrics for part in parts):  # parts of one kind of device
            columns = zip(*(part.chunks for part in parts), strict=True)
            members = [tuple(itertools.chain.from_iterable(column)) for column in columns]
            return Part(first.metrics, first.empty, _merged(members), info)
        by_metric: dict[str, tuple[SeriesFamily, list[Chunk]]] = {}
        for part in parts:
            for metric, empty, of_metric in zip(part.metrics, part.empty, part.chunks, strict=True):
                by_metric.setdefault(metric, (empty, []))[1].extend(of_metric)
        return Part(
            tuple(by_metric),
            tuple(empty for empty, _ in by_metric.values()),
            _merged([tuple(chunks) for _, chunks in by_metric.values()]),
            info,
        )

    def reusing(self, previous: Part | None) -> Part:
        """This part, holding ``previous``'s chunks of each family whose series are the same
        (the text of those is written already)."""
        if previous is None:
            return self
        if previous.metrics == self.metrics:
            before: Iterable[tuple[Chunk, ...] | None] = previous.chunks
        else:
            previous_of = dict(zip(previous.metrics, previous.chunks, strict=True))
            before = map(previous_of.get, self.metrics)
        chunks: list[tuple[Chunk, ...]] = []
        kept: list[int] = []
        for position, (old, new) in enumerate(zip(before, self.chunks, strict=True)):
            if old is not None and old == new:
                kept.append(position)
                chunks.append(old)
            else:
                chunks.append(new)
        made = previous.carried(kept) if previous.metrics == self.metrics else {}
        return Part(self.metrics, self.empty, tuple(chunks), self.info, made=made)


class PartLayout:
    """The channels of one kind of device (a pack, a system's heartbeat ...), whose raw
    values make one ``Part`` per device.

    A part built after a previous one of the same device takes the previous chunks of
    each family whose channels' raw values are the same: a value that did not change
    costs a comparison.
    """

    def __init__(self, channels: Sequence[Channel[Any]], device_labels: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self.device_labels = tuple(device_labels)
        by_metric: dict[str, list[int]] = {}
        for index, channel in enumerate(self.channels):
            if channel.kind is not Kind.INFO:
                by_metric.setdefault(channel.metric, []).append(index)
        self._positions = tuple(tuple(indices) for indices in by_metric.values())
        #: The family position of each channel (-1 for an info channel).
        self._position_of = [-1] * len(self.channels)
        for position, indices in enumerate(self._positions):
            for index in indices:
                self._position_of[index] = position
        self._info = tuple(i for i, c in enumerate(self.channels) if c.kind is Kind.INFO)
        self.metrics = tuple(by_metric)
        self.empty = tuple(
            _empty_family(self.channels[indices[0]], self.device_labels)
            for indices in self._positions
        )

    def part(
        self, device_values: tuple[str, ...], raws: Sequence[Any], previous: Part | None = None
    ) -> Part:
        """The part of one device whose channels gave ``raws`` (in the order of ``channels``);
        ``previous``: the last part of the same device."""
        channels = self.channels
        made: dict[int, SeriesFamily] = {}
        if previous is not None and len(previous.raws) == len(raws):
            chunks = list(previous.chunks)
            pairs = enumerate(zip(raws, previous.raws, strict=True))
            rebuilt = {self._position_of[i] for i, (now, then) in pairs if now != then} - {-1}
            made = previous.carried(set(previous.made) - rebuilt)
        else:
            chunks = [()] * len(self._positions)
            rebuilt = set(range(len(self._positions)))
        for position in rebuilt:
            indices = self._positions[position]
            of_channels = [channel_series(channels[i], raws[i], device_values) for i in indices]
            present = [series for series in of_channels if series is not None]
            chunks[position] = (Chunk(sum(present, ())),) if present else ()
        info = tuple(
            (channels[i], (*device_values, *channels[i].label_values), _info_text(channels[i], raw))
            for i in self._info
            if (raw := raws[i]) is not None
        )
        return Part(self.metrics, self.empty, tuple(chunks), info, tuple(raws), made)


def channel_series(channel: Channel[Any], raw: Any, device_values: Sequence[str]) -> Series | None:
    """The series one raw value of a channel (not an info channel) makes; None when it
    makes no family: no value, or the missing value of a channel of one series."""
    if raw is None:
        return None
    kind = channel.kind
    if kind in _PLAIN:
        if raw in channel.missing_values:
            return None
        return (((*device_values, *channel.label_values), scaled(raw, channel.scale)),)
    labels = (*device_values, *channel.label_values)
    if kind is Kind.ARRAY:
        missing, scale = channel.missing_values, channel.scale
        return tuple(
            ((*labels, _index_label(index)), scaled(value, scale))
            for index, value in enumerate(raw, start=1)
            if value not in missing
        )
    if raw in channel.missing_values:
        return None
    if kind is Kind.ENUM:
        return _expanded(channel, labels, int(raw), _enum_series)
    return _expanded(channel, labels, int(raw) & _ALL_BITS, _bit_series)


def _merged(members: Iterable[tuple[Chunk, ...]]) -> tuple[tuple[Chunk, ...], ...]:
    """Each family's chunks as one chunk of them (none where there are none)."""
    return tuple((Chunk(members=chunks),) if chunks else () for chunks in members)


class FamilyBuilder:
    """One scrape's metric families, from the ``Part``s of its devices.

    ``device_labels`` name the labels that identify the measured thing (``target``,
    ``serial``, ``pack``): those of the parts' layouts.
    """

    def __init__(self, device_labels: Sequence[str]) -> None:
        self._device_labels = tuple(device_labels)
        #: Where each metric's chunks are: each part adding to it and the metric's position.
        self._sources: dict[str, list[tuple[Part, int]]] = {}
        self._info: list[InfoText] = []

    def add_part(self, part: Part) -> None:
        """Add what a part holds; a family that only it adds to is the part's family."""
        sources = self._sources
        for position, (metric, chunks) in enumerate(zip(part.metrics, part.chunks, strict=True)):
            if chunks:
                sources.setdefault(metric, []).append((part, position))
        self._info += part.info

    def families(self) -> Iterator[Metric]:
        for sources in self._sources.values():
            if len(sources) == 1:
                part, position = sources[0]
                yield part.family(position)
                continue
            part, position = sources[0]
            family = part.empty[position].empty_copy()
            family.chunks = tuple(itertools.chain.from_iterable(p.chunks[i] for p, i in sources))
            yield family
        info: dict[str, tuple[Channel[Any], dict[tuple[str, ...], dict[str, str]]]] = {}
        for channel, labels, text in self._info:
            _, series = info.setdefault(channel.metric, (channel, {}))
            series.setdefault(labels, {})[channel.info_label] = text
        for metric, (channel, series) in info.items():
            family = InfoMetricFamily(
                metric.removesuffix("_info"),
                channel.help,
                labels=(*self._device_labels, *channel.label_names),
            )
            for labels, texts in series.items():
                family.add_metric(labels, texts)
            yield family


def _info_text(channel: Channel[Any], raw: Any) -> str:
    return dotted_version(raw) if channel.text_format == "version" else str(raw)


#: Enum and bitfield values expanded into series, by channel, labels and value: a device's
#: states and alarms change seldom, and an enum of 20 states is 20 series.
_EXPANDED: dict[tuple[Channel[Any], tuple[str, ...], int], Series] = {}
#: Expansions kept at most; past this the cache starts again.
EXPANDED_LIMIT = 50_000


def _expanded(
    channel: Channel[Any],
    labels: tuple[str, ...],
    raw: int,
    expand: Callable[[Channel[Any], tuple[str, ...], int], Series],
) -> Series:
    key = (channel, labels, raw)
    series = _EXPANDED.get(key)
    if series is None:
        if len(_EXPANDED) >= EXPANDED_LIMIT:
            _EXPANDED.clear()
        series = _EXPANDED[key] = expand(channel, labels, raw)
    return series


def _enum_series(channel: Channel[Any], labels: tuple[str, ...], raw: int) -> Series:
    """One series per state, 1 for the current one; an undocumented state gets its own."""
    series = [
        ((*labels, state), 1.0 if value == raw else 0.0) for value, state in channel.states.items()
    ]
    if raw not in channel.states:
        series.append(((*labels, str(raw)), 1.0))
    return tuple(series)


def _bit_series(channel: Channel[Any], labels: tuple[str, ...], raw: int) -> Series:
    """One series per documented bit, and one per set bit the mapping does not describe."""
    documented, mask = _documented_bits(channel)
    series = [
        ((*labels, number, text), float((raw >> bit) & 1)) for bit, number, text in documented
    ]
    undocumented = raw & ~mask
    series += [
        ((*labels, str(bit), UNDOCUMENTED), 1.0)
        for bit in range(undocumented.bit_length())
        if (undocumented >> bit) & 1
    ]
    return tuple(series)


@functools.cache
def _documented_bits(channel: Channel[Any]) -> tuple[tuple[tuple[int, str, str], ...], int]:
    """(bit, its number as a label, its alarm) of each documented bit, and their mask."""
    documented = tuple((bit, str(bit), text) for bit, text in channel.bits.items())
    return documented, sum(1 << bit for bit in channel.bits)


@functools.lru_cache(maxsize=1024)
def _index_label(index: int) -> str:
    return str(index)


@functools.lru_cache(maxsize=4096)
def dotted_version(raw: Any) -> str:
    """A version packed into 32 bits, most significant byte first: 0x0300130F -> 3.0.19.15."""
    if not isinstance(raw, int) or not 0 <= raw < 1 << 32:
        return str(raw)
    return ".".join(str(raw >> shift & 0xFF) for shift in (24, 16, 8, 0))


@dataclass(frozen=True)
class HealthMetric:
    """A metric the exporter makes itself (not from a mapping): scrape health, build info.

    The collectors build their families from these, and ``ess-exporter metrics`` lists them,
    so the reference cannot miss one the exporter serves.
    """

    device: str
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""

    def family(self, samples: Iterable[tuple[Sequence[str], Number]]) -> Metric:
        """A gauge or counter family holding ``samples`` (label values, value)."""
        family = self._empty.empty_copy()
        family.series.extend((tuple(labels), value) for labels, value in samples)
        return family

    @functools.cached_property
    def _empty(self) -> SeriesFamily:
        return SeriesFamily(self.kind, self.name, self.help, self.labels)

    def info(self, series: Iterable[Mapping[str, str]]) -> Metric:
        """An info family: one series with value 1 per mapping of label names to texts."""
        family = InfoMetricFamily(self.name.removesuffix("_info"), self.help, labels=())
        for labels in series:
            family.add_metric((), labels)
        return family


BUILD_INFO = HealthMetric(
    "exporter",
    "ess_exporter_build_info",
    Kind.INFO,
    "Version of the ess-exporter, the commit and branch it was built from, and its Python.",
    ("version", "revision", "branch", "python_version"),
)


def build_info(version: str, revision: str, branch: str, python_version: str) -> Metric:
    """``ess_exporter_build_info``: one series with value 1."""
    return BUILD_INFO.info(
        [
            {
                "version": version,
                "revision": revision,
                "branch": branch,
                "python_version": python_version,
            }
        ]
    )

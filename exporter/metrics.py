"""Channels and raw values -> Prometheus metric families.

This is the only module that knows how a device value is shown to Prometheus: scaling,
enum and bitfield expansion, info series, array index labels, and the families of the
metrics the exporter makes itself (``HealthMetric``, defined by each device's collector).
It knows no device. A collector fills a fresh ``Families`` on every scrape from the values
its devices hold now, so a label set that disappears from the device disappears from the
exposition; only what a mapping fixes (each channel's family shape, states and bits) is
made once, by ``ChannelFamilies``, when the mapping is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from exporter.exposition import (
    AnyFamily,
    Family,
    FamilyShape,
    FamilyType,
    InfoFamily,
    SeriesShape,
    needs_escaping,
)
from exporter.model import Channel, Kind

#: The label of a set bit that the mapping does not describe.
UNDOCUMENTED = "undocumented"
_ALL_BITS = (1 << 64) - 1

#: The ``source`` of the rows of ``ess-exporter metrics`` that no mapping entry makes.
HEALTH_SEED_ID = "exporter"


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
    channel = Channel(HEALTH_SEED_ID, metric.name, metric.kind, metric.help, None, unit=metric.unit)
    return {**describe(channel, metric.device, ()), "label_names": list(metric.labels)}


def _expansion_labels(channel: Channel[Any]) -> tuple[str, ...]:
    """The labels one value gains on its way out: enum state, alarm bit, array index, text."""
    return {
        Kind.ENUM: ("state",),
        Kind.BITFIELD: ("bit", "alarm"),
        Kind.ARRAY: (channel.index_label,),
        Kind.INFO: (channel.info_label,),
    }.get(channel.kind, ())


def scaling(scale: float) -> Callable[[float], float]:
    """raw -> raw x scale, exact where 1/scale is whole: 82 x 0.01 gives 0.82, not
    0.8200000000000001. A zero is 0.0, never -0.0."""
    if scale == 1:
        return lambda raw: raw + 0.0
    inverse = 1 / scale
    if -1 < scale < 1 and abs(inverse - round(inverse)) < 1e-9:
        divisor = round(inverse)
        return lambda raw: raw / divisor + 0.0
    return lambda raw: raw * scale + 0.0


def dotted_version(raw: Any) -> str:
    """A version packed into 32 bits, most significant byte first: 0x0300130F -> 3.0.19.15."""
    if not isinstance(raw, int) or not 0 <= raw < 1 << 32:
        return str(raw)
    return ".".join(str(raw >> shift & 0xFF) for shift in (24, 16, 8, 0))


class Families:
    """The families of one scrape: each metric once, in the order first filled."""

    def __init__(self) -> None:
        self._series: dict[str, Family] = {}
        self._info: dict[str, InfoFamily] = {}

    def family(self, shape: FamilyShape, escape: bool = False) -> Family:
        """The family ``shape`` of this scrape; ``escape`` when a varying label value of
        the series to come needs escaping."""
        family = self._series.get(shape.name)
        if family is None:
            family = self._series[shape.name] = Family(shape)
        if escape:
            family.escape = True
        return family

    def info(self, channel: Channel[Any]) -> InfoFamily:
        """The info family of ``channel``."""
        family = self._info.get(channel.metric)
        if family is None:
            shape = FamilyShape("info", channel.metric, channel.help)
            family = self._info[channel.metric] = InfoFamily(shape)
        return family

    def __iter__(self) -> Iterator[AnyFamily]:
        yield from (family for family in self._series.values() if family.values)
        yield from self._info.values()


class _Shown:
    """How one channel's raw value becomes series (any channel but an info channel): the
    shape of each series it can make, made once for a device's labels (``device``,
    sorted by name). ``add`` gets the device's label values in that order."""

    def __init__(self, channel: Channel[Any], device: tuple[str, ...]) -> None:
        self.channel = channel
        self.family = FamilyShape(_family_type(channel.kind), channel.metric, channel.help)
        self.scale = scaling(channel.scale)
        self.plain = channel.kind in (Kind.GAUGE, Kind.COUNTER)
        constant = channel.labels

        def shape(*labels: tuple[str, str]) -> SeriesShape:
            return SeriesShape(self.family, device, (*constant, *labels))

        self.series = shape()
        #: Enum states as (raw value, shape); bitfield bits as (bit, shape).
        self.states = tuple(
            (value, shape(("state", name))) for value, name in channel.states.items()
        )
        self.bits = tuple(
            (bit, shape(("bit", str(bit)), ("alarm", text))) for bit, text in channel.bits.items()
        )
        self.state_shapes = [shape for _, shape in self.states]
        self.bit_shapes = [shape for _, shape in self.bits]
        self.mask = sum(1 << bit for bit in channel.bits)
        #: A series with one more label whose value comes with it (an undocumented state or
        #: bit, an array index), and where that value goes among the device's.
        extra = {Kind.ENUM: "state", Kind.BITFIELD: "bit", Kind.ARRAY: channel.index_label}
        name = extra.get(channel.kind, "")
        alarm = (("alarm", UNDOCUMENTED),) if channel.kind is Kind.BITFIELD else ()
        varying = tuple(sorted((*device, name))) if name else device
        self.numbered = SeriesShape(self.family, varying, (*constant, *alarm))
        self.number_at = varying.index(name) if name else 0

    def add_to(
        self, families: Families, devices: Sequence[_Device], index: int, escape: bool
    ) -> None:
        """The series of the channel, the ``index``-th of each device's raw values; all
        devices at once, each kind in a few list operations."""
        given = [(labels, raw) for labels, raws in devices if (raw := raws[index]) is not None]
        if not given:
            return
        family = families.family(self.family, escape)
        kind, missing = self.channel.kind, self.channel.missing_values
        if kind is Kind.ARRAY:
            self._add_arrays(family, given)
            return
        shown = [(labels, raw) for labels, raw in given if raw not in missing] if missing else given
        if self.plain:
            family.shapes += [self.series] * len(shown)
            family.labels += [labels for labels, _ in shown]
            family.values += map(self.scale, [raw for _, raw in shown])
        elif kind is Kind.ENUM:
            self._add_states(family, [(labels, int(raw)) for labels, raw in shown])
        else:
            self._add_bits(family, [(labels, int(raw) & _ALL_BITS) for labels, raw in shown])

    def _numbered(self, device: tuple[str, ...], number: int) -> tuple[str, ...]:
        at = self.number_at
        return (*device[:at], str(number), *device[at:])

    def _add_arrays(self, family: Family, arrays: list[tuple[tuple[str, ...], Any]]) -> None:
        """One series per value of each array, numbered from the channel's first index."""
        missing, scale, first = self.channel.missing_values, self.scale, self.channel.first_index
        shown = [
            (self._numbered(labels, number), value)
            for labels, raw in arrays
            for number, value in enumerate(raw, start=first)
            if value not in missing
        ]
        family.shapes += [self.numbered] * len(shown)
        family.labels += [labels for labels, _ in shown]
        family.values += [scale(value) for _, value in shown]

    def _add_states(self, family: Family, shown: list[tuple[tuple[str, ...], int]]) -> None:
        """One series per state, 1 for the current one; an undocumented state gets its own."""
        states = self.states
        family.shapes += self.state_shapes * len(shown)
        family.labels += [labels for labels, _ in shown for _ in states]
        family.values += [1.0 if value == raw else 0.0 for _, raw in shown for value, _ in states]
        for labels, raw in shown:
            if raw not in self.channel.states:
                family.add(self.numbered, self._numbered(labels, raw), 1.0)

    def _add_bits(self, family: Family, shown: list[tuple[tuple[str, ...], int]]) -> None:
        """One series per documented bit, and one per set bit the mapping does not describe."""
        bits = self.bits
        family.shapes += self.bit_shapes * len(shown)
        family.labels += [labels for labels, _ in shown for _ in bits]
        family.values += [float(raw >> bit & 1) for _, raw in shown for bit, _ in bits]
        for labels, raw in shown:
            undocumented = raw & ~self.mask
            for bit in range(undocumented.bit_length()):
                if undocumented >> bit & 1:
                    family.add(self.numbered, self._numbered(labels, bit), 1.0)


def _family_type(kind: Kind) -> FamilyType:
    return "counter" if kind is Kind.COUNTER else "gauge"


class ChannelFamilies:
    """The channels of one kind of device (a REFU, a PowerOcean pack ...), ready to turn the
    raw values of each such device into series: made once per mapping, used on every scrape.

    ``device_labels`` name the labels that identify the device (``target``, ``serial``,
    ``pack``).
    """

    def __init__(self, channels: Iterable[Channel[Any]], device_labels: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self.device_labels = tuple(device_labels)
        #: Where each device label goes when the labels are sorted by name.
        self._device_order = sorted(range(len(device_labels)), key=device_labels.__getitem__)
        device = tuple(self.device_labels[i] for i in self._device_order)
        #: By position in ``channels``: how the value of each channel but the info ones is
        #: shown, and each info channel.
        self._shown = [
            (i, _Shown(c, device)) for i, c in enumerate(self.channels) if c.kind is not Kind.INFO
        ]
        #: Info channels by family and constant labels: together they make one series.
        info: dict[tuple[str, object], list[tuple[int, Channel[Any]]]] = {}
        for i, c in enumerate(self.channels):
            if c.kind is Kind.INFO:
                info.setdefault((c.metric, c.labels), []).append((i, c))
        self._info = tuple(tuple(members) for members in info.values())

    def add(
        self, families: Families, devices: Iterable[tuple[tuple[str, ...], Sequence[Any]]]
    ) -> None:
        """Add the series of devices: of each, its label values (in the order of
        ``device_labels``) and its channels' raw values (in the order of ``channels``); a raw
        value of None adds nothing."""
        given = list(devices)
        order = self._device_order
        sorted_labels = [(tuple(values[i] for i in order), raws) for values, raws in given]
        escape = needs_escaping(v for labels, _ in sorted_labels for v in labels)
        for index, shown in self._shown:
            shown.add_to(families, sorted_labels, index, escape)
        for members in self._info:  # one series per device, if any member has a text
            channel = members[0][1]
            for values, raws in given:
                texts = {
                    c.info_label: _info_text(c, raws[i]) for i, c in members if raws[i] is not None
                }
                if texts:
                    labels = dict(zip(self.device_labels, values, strict=True))
                    families.info(channel).add({**labels, **dict(channel.labels), **texts})


#: A device's label values (sorted by label name) and its channels' raw values.
_Device = tuple[tuple[str, ...], Sequence[Any]]


def _info_text(channel: Channel[Any], raw: Any) -> str:
    return dotted_version(raw) if channel.text_format == "version" else str(raw)


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
    #: The shape of the family's series (none for an info metric), and where each label
    #: goes when sorted by name.
    _series: SeriesShape | None = field(init=False, repr=False, compare=False)
    _order: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = tuple(sorted(range(len(self.labels)), key=self.labels.__getitem__))
        shape = None
        if self.kind is not Kind.INFO:
            family = FamilyShape(_family_type(self.kind), self.name, self.help)
            shape = SeriesShape(family, tuple(self.labels[i] for i in order))
        object.__setattr__(self, "_series", shape)
        object.__setattr__(self, "_order", order)

    def family(self, series: Iterable[tuple[Sequence[str], float]]) -> Family:
        """A gauge or counter family holding ``series`` (label values, value)."""
        shape, order = self._series, self._order
        if shape is None:
            raise TypeError(f"{self.name} is an info metric")
        family = Family(shape.family)
        for labels, value in series:
            family.add(shape, tuple(labels[i] for i in order), value)
        family.escape = needs_escaping(v for values in family.labels for v in values)
        return family

    def info(self, series: Iterable[Sequence[str]]) -> InfoFamily:
        """An info family: one series with value 1 per label values (texts)."""
        family = InfoFamily(FamilyShape("info", self.name, self.help))
        for values in series:
            family.add(dict(zip(self.labels, values, strict=True)))
        return family


BUILD_INFO = HealthMetric(
    "exporter",
    "ess_exporter_build_info",
    Kind.INFO,
    "Version of the ess-exporter, the commit and branch it was built from, and its Python.",
    ("version", "revision", "branch", "python_version"),
)


def build_info(version: str, revision: str, branch: str, python_version: str) -> InfoFamily:
    """``ess_exporter_build_info``: one series with value 1."""
    return BUILD_INFO.info([(version, revision, branch, python_version)])

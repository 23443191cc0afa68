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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exporter.exposition import AnyFamily, Family, FamilyShape, FamilyType, InfoFamily, Series
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
    return {
        "device": metric.device,
        "source": HEALTH_SEED_ID,
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


def scaled(raw: float, scale: float) -> float:
    """raw x scale, as ``scaling`` computes it."""
    return scaling(scale)(raw)


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

    def series(self, shape: FamilyShape) -> list[Series]:
        """Where the series of the family ``shape`` go."""
        family = self._series.get(shape.name)
        if family is None:
            family = self._series[shape.name] = Family(shape)
        return family.series

    def info(self, channel: Channel[Any]) -> InfoFamily:
        """The info family of ``channel``."""
        family = self._info.get(channel.metric)
        if family is None:
            shape = FamilyShape("info", channel.metric, channel.help)
            family = self._info[channel.metric] = InfoFamily(shape)
        return family

    def __iter__(self) -> Iterator[AnyFamily]:
        yield from self._series.values()
        yield from self._info.values()


@dataclass(frozen=True)
class _Series:
    """How one channel's raw value becomes series of its family (all but info channels)."""

    channel: Channel[Any]
    shape: FamilyShape
    scale: Callable[[float], float]
    #: A gauge or counter: one series, labelled by the device and the constant labels.
    plain: bool
    #: Enum states as (raw value, state); bitfield bits as (bit, its label, its alarm).
    states: tuple[tuple[int, str], ...] = ()
    bits: tuple[tuple[int, str, str], ...] = ()
    mask: int = 0

    def add_expanded(self, series: list[Series], device_values: tuple[str, ...], raw: Any) -> None:
        """The series of an array, enum or bitfield value."""
        channel = self.channel
        labels = (*device_values, *channel.label_values)
        kind = channel.kind
        if kind is Kind.ARRAY:
            series += [
                ((*labels, str(index)), self.scale(value))
                for index, value in enumerate(raw, start=1)
                if value not in channel.missing_values
            ]
        elif raw in channel.missing_values:
            return
        elif kind is Kind.ENUM:
            self._add_states(series, labels, int(raw))
        else:
            self._add_bits(series, labels, int(raw) & _ALL_BITS)

    def _add_states(self, series: list[Series], labels: tuple[str, ...], raw: int) -> None:
        """One series per state, 1 for the current one; an undocumented state gets its own."""
        series += [((*labels, state), 1.0 if value == raw else 0.0) for value, state in self.states]
        if raw not in self.channel.states:
            series.append(((*labels, str(raw)), 1.0))

    def _add_bits(self, series: list[Series], labels: tuple[str, ...], raw: int) -> None:
        """One series per documented bit, and one per set bit the mapping does not describe."""
        series += [
            ((*labels, number, text), float(raw >> bit & 1)) for bit, number, text in self.bits
        ]
        undocumented = raw & ~self.mask
        series += [
            ((*labels, str(bit), UNDOCUMENTED), 1.0)
            for bit in range(undocumented.bit_length())
            if undocumented >> bit & 1
        ]


def _family_type(kind: Kind) -> FamilyType:
    return "counter" if kind is Kind.COUNTER else "gauge"


def _series_of(channel: Channel[Any], device_labels: tuple[str, ...]) -> _Series:
    label_names = (*device_labels, *channel.label_names, *_expansion_labels(channel))
    return _Series(
        channel,
        FamilyShape(_family_type(channel.kind), channel.metric, channel.help, label_names),
        scaling(channel.scale),
        plain=channel.kind in (Kind.GAUGE, Kind.COUNTER),
        states=tuple(channel.states.items()),
        bits=tuple((bit, str(bit), text) for bit, text in channel.bits.items()),
        mask=sum(1 << bit for bit in channel.bits),
    )


class ChannelFamilies:
    """The channels of one kind of device (a REFU, a PowerOcean pack ...), ready to turn the
    raw values of each such device into series: made once per mapping, used on every scrape.

    ``device_labels`` name the labels that identify the device (``target``, ``serial``,
    ``pack``).
    """

    def __init__(self, channels: Iterable[Channel[Any]], device_labels: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self.device_labels = tuple(device_labels)
        #: By position in ``channels``: how the value of each channel but the info ones is
        #: shown, and each info channel.
        self._series = [
            (i, _series_of(c, self.device_labels))
            for i, c in enumerate(self.channels)
            if c.kind is not Kind.INFO
        ]
        #: Info channels by family and constant labels: together they make one series.
        info: dict[tuple[str, tuple[str, ...]], list[tuple[int, Channel[Any]]]] = {}
        for i, c in enumerate(self.channels):
            if c.kind is Kind.INFO:
                info.setdefault((c.metric, c.label_values), []).append((i, c))
        self._info = tuple(tuple(members) for members in info.values())

    def add(self, families: Families, device_values: tuple[str, ...], raws: Sequence[Any]) -> None:
        """Add the series of one device, whose channels hold ``raws`` (in their order); a raw
        value of None adds nothing."""
        for index, shown in self._series:
            raw = raws[index]
            if raw is None:
                continue
            series = families.series(shown.shape)
            if not shown.plain:
                shown.add_expanded(series, device_values, raw)
            elif raw not in shown.channel.missing_values:
                constant = shown.channel.label_values
                labels = device_values + constant if constant else device_values
                series.append((labels, shown.scale(raw)))
        for members in self._info:
            texts = {
                channel.info_label: _info_text(channel, raws[index])
                for index, channel in members
                if raws[index] is not None
            }
            if texts:
                channel = members[0][1]
                device = zip(self.device_labels, device_values, strict=True)
                families.info(channel).add({**dict(device), **dict(channel.labels), **texts})


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
    shape: FamilyShape | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        shape = None
        if self.kind is not Kind.INFO:
            shape = FamilyShape(_family_type(self.kind), self.name, self.help, self.labels)
        object.__setattr__(self, "shape", shape)

    def family(self, series: Iterable[tuple[Sequence[str], float]]) -> Family:
        """A gauge or counter family holding ``series`` (label values, value)."""
        if self.shape is None:
            raise TypeError(f"{self.name} is an info metric")
        return Family(self.shape, ((tuple(labels), value) for labels, value in series))

    def info(self, series: Iterable[Mapping[str, str]]) -> InfoFamily:
        """An info family: one series with value 1 per mapping of label names to texts."""
        family = InfoFamily(FamilyShape("info", self.name, self.help))
        for labels in series:
            family.add(dict(labels))
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

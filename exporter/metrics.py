"""Channels and raw values -> Prometheus metric families.

This is the only module that knows how a device value is shown to Prometheus: scaling,
enum and bitfield expansion, info series, array index labels and the exporter's health
metrics. Families are built fresh for every scrape, so a label set that disappears from
the device disappears from the exposition.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)

from exporter.mapping import Channel, Kind

#: The label of a set bit that the mapping does not describe.
UNDOCUMENTED = "undocumented"
_ALL_BITS = (1 << 64) - 1

Number = int | float


def describe(channel: Channel[Any], device: str) -> dict[str, Any]:
    """One row of ``ess-exporter metrics``."""
    return {
        "device": device,
        "source": channel.source,
        "metric": channel.metric,
        "kind": str(channel.kind),
        "unit": channel.unit,
        "scale": channel.scale,
        "help": channel.help,
        "labels": dict(channel.labels),
        "states": {str(k): v for k, v in channel.states.items()},
        "bits": {str(k): v for k, v in channel.bits.items()},
    }


@functools.cache
def _divisor(scale: float) -> float | None:
    """1/scale when that is a whole number (0.01 -> 100), else None."""
    inverse = 1 / scale
    return round(inverse) if abs(inverse - round(inverse)) < 1e-9 else None


def scaled(raw: Number, scale: float) -> float:
    """raw x scale; 82 x 0.01 gives 0.82, not 0.8200000000000001."""
    divisor = _divisor(scale) if abs(scale) < 1 else None
    return raw / divisor if divisor else raw * scale


class FamilyBuilder:
    """Collects one scrape's samples, grouped into metric families by name.

    ``device_labels`` name the labels that identify the measured thing (``target``,
    ``serial``, ``pack``); every ``add`` passes their values.
    """

    def __init__(self, device_labels: Sequence[str]) -> None:
        self._device_labels = tuple(device_labels)
        self._families: dict[str, Metric] = {}
        self._info: dict[str, dict[tuple[str, ...], dict[str, str]]] = {}
        self._info_channels: dict[str, Channel[Any]] = {}

    def add(self, channel: Channel[Any], raw: Any, device_values: Sequence[str]) -> None:
        """Add one channel's raw value (a number, a text, or a sequence for arrays)."""
        if raw is None:
            return
        labels = (*device_values, *channel.label_values)
        kind = channel.kind
        if kind is Kind.INFO:
            self._add_info(channel, labels, raw)
            return
        if kind is Kind.ARRAY:
            family = self._family(channel, (channel.index_label,))
            for index, value in enumerate(raw, start=1):
                if value not in channel.missing_values:
                    family.add_metric((*labels, str(index)), scaled(value, channel.scale))
            return
        if raw in channel.missing_values:
            return
        if kind is Kind.ENUM:
            self._add_enum(channel, labels, int(raw))
        elif kind is Kind.BITFIELD:
            self._add_bits(channel, labels, int(raw) & _ALL_BITS)
        else:
            self._family(channel, ()).add_metric(labels, scaled(raw, channel.scale))

    def families(self) -> Iterator[Metric]:
        yield from self._families.values()
        for metric, series in self._info.items():
            channel = self._info_channels[metric]
            family = InfoMetricFamily(
                metric.removesuffix("_info"),
                channel.help,
                labels=(*self._device_labels, *channel.label_names),
            )
            for labels, texts in series.items():
                family.add_metric(labels, texts)
            yield family

    def _family(self, channel: Channel[Any], extra_labels: tuple[str, ...]) -> Metric:
        family = self._families.get(channel.metric)
        if family is None:
            label_names = (*self._device_labels, *channel.label_names, *extra_labels)
            if channel.kind is Kind.COUNTER:
                family = CounterMetricFamily(
                    channel.metric.removesuffix("_total"), channel.help, labels=label_names
                )
            else:
                family = GaugeMetricFamily(channel.metric, channel.help, labels=label_names)
            self._families[channel.metric] = family
        return family

    def _add_enum(self, channel: Channel[Any], labels: tuple[str, ...], raw: int) -> None:
        family = self._family(channel, ("state",))
        for value, state in channel.states.items():
            family.add_metric((*labels, state), 1.0 if value == raw else 0.0)
        if raw not in channel.states:
            family.add_metric((*labels, str(raw)), 1.0)

    def _add_bits(self, channel: Channel[Any], labels: tuple[str, ...], raw: int) -> None:
        family = self._family(channel, ("bit", "alarm"))
        for bit, text in channel.bits.items():
            family.add_metric((*labels, str(bit), text), float((raw >> bit) & 1))
        undocumented = raw & ~sum(1 << bit for bit in channel.bits)
        for bit in range(undocumented.bit_length()):
            if (undocumented >> bit) & 1:
                family.add_metric((*labels, str(bit), UNDOCUMENTED), 1.0)

    def _add_info(self, channel: Channel[Any], labels: tuple[str, ...], raw: Any) -> None:
        self._info_channels.setdefault(channel.metric, channel)
        series = self._info.setdefault(channel.metric, {})
        text = dotted_version(raw) if channel.text_format == "version" else str(raw)
        series.setdefault(labels, {})[channel.info_label] = text


def dotted_version(raw: Any) -> str:
    """A version packed into 32 bits, most significant byte first: 0x0300130F -> 3.0.19.15."""
    if not isinstance(raw, int) or not 0 <= raw < 1 << 32:
        return str(raw)
    return ".".join(str(raw >> shift & 0xFF) for shift in (24, 16, 8, 0))


def gauge(
    name: str,
    help_text: str,
    label_names: Sequence[str],
    samples: Iterable[tuple[Sequence[str], Number]],
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=label_names)
    for labels, value in samples:
        family.add_metric(labels, value)
    return family


def counter(
    name: str,
    help_text: str,
    label_names: Sequence[str],
    samples: Iterable[tuple[Sequence[str], Number]],
) -> CounterMetricFamily:
    family = CounterMetricFamily(name.removesuffix("_total"), help_text, labels=label_names)
    for labels, value in samples:
        family.add_metric(labels, value)
    return family


@dataclass(frozen=True)
class TargetHealth:
    """How the last scrape of one REFU target went, and its running counts."""

    up: bool
    duration_seconds: float
    requests: int
    exceptions: int
    errors: Mapping[str, int]


def refu_health(targets: Sequence[tuple[str, TargetHealth]]) -> Iterator[Metric]:
    """Health of the scraped REFU targets, one series per target."""
    labels = ("target",)
    yield gauge(
        "refu_up",
        "1 when the last scrape read the REFU, 0 when it could not.",
        labels,
        [((name,), float(h.up)) for name, h in targets],
    )
    yield gauge(
        "refu_scrape_duration_seconds",
        "Time the last scrape of the REFU took.",
        labels,
        [((name,), h.duration_seconds) for name, h in targets],
    )
    yield counter(
        "refu_modbus_requests_total",
        "Modbus read requests sent to the REFU.",
        labels,
        [((name,), h.requests) for name, h in targets],
    )
    yield counter(
        "refu_modbus_exceptions_total",
        "Modbus exception answers from the REFU; the refused block is split and read again.",
        labels,
        [((name,), h.exceptions) for name, h in targets],
    )
    yield counter(
        "refu_scrape_errors_total",
        "Scrapes of the REFU that failed, by reason.",
        ("target", "reason"),
        [((name, reason), n) for name, h in targets for reason, n in sorted(h.errors.items())],
    )


@dataclass
class PowerOceanHealth:
    """The state of the MQTT connection and of every system's messages, for one scrape."""

    connected: bool
    connects: int
    dropped: Mapping[str, int]
    received: Mapping[tuple[str, str], int]
    #: The configured name of each system, by serial.
    names: Mapping[str, str] = field(default_factory=dict)
    up: dict[str, bool] = field(default_factory=dict)
    last_message: dict[tuple[str, str], float] = field(default_factory=dict)
    last_pack_message: dict[tuple[str, str], float] = field(default_factory=dict)


def powerocean_health(health: PowerOceanHealth) -> Iterator[Metric]:
    info = InfoMetricFamily(
        "powerocean_system",
        "A configured PowerOcean system and its name (the serial when none is configured).",
        labels=("serial",),
    )
    for serial, name in sorted(health.names.items()):
        info.add_metric((serial,), {"name": name})
    yield info
    yield gauge(
        "powerocean_up",
        "1 when the system sent a message within stale_after_seconds, 0 otherwise.",
        ("serial",),
        [((serial,), float(up)) for serial, up in sorted(health.up.items())],
    )
    yield gauge(
        "powerocean_last_message_timestamp_seconds",
        "Unix time the last message of each kind arrived from the system.",
        ("serial", "message"),
        [(key, at) for key, at in sorted(health.last_message.items())],
    )
    yield gauge(
        "powerocean_battery_pack_last_message_timestamp_seconds",
        "Unix time the last report of the battery pack arrived.",
        ("serial", "pack"),
        [(key, at) for key, at in sorted(health.last_pack_message.items())],
    )
    yield counter(
        "powerocean_messages_received_total",
        "Messages decoded into the cache, by system and kind.",
        ("serial", "message"),
        [(key, n) for key, n in sorted(health.received.items())],
    )
    yield counter(
        "powerocean_decode_errors_total",
        "Payloads or frames dropped because they could not be used, by reason.",
        ("reason",),
        [((reason,), n) for reason, n in sorted(health.dropped.items())],
    )
    yield gauge(
        "powerocean_mqtt_connected",
        "1 while the exporter is connected to the MQTT broker.",
        (),
        [((), float(health.connected))],
    )
    yield counter(
        "powerocean_mqtt_connects_total",
        "Successful connections to the MQTT broker (more than one means reconnects).",
        (),
        [((), health.connects)],
    )

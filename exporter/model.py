"""Load a device mapping (``mappings/<device>.yaml``) into one model of channels.

A mapping file holds one entry per channel of a device. The keys every entry has
(what the value *is*: metric name, kind, unit, scale, states, bits) are read here;
the keys that say *where* the value comes from (a Modbus register, a protobuf field)
are handed to a parser that the device package supplies. Every error names the file,
the entry and the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from exporter.config import load_yaml

#: Where a channel's value is in the device's data (a register, a message field ...).
Location = TypeVar("Location", covariant=True)


class Kind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"
    ENUM = "enum"
    BITFIELD = "bitfield"
    INFO = "info"
    ARRAY = "array"


#: Base units a metric may carry (Prometheus naming practice); "" is a plain number.
UNITS = frozenset(
    {
        "",
        "watts",
        "volts",
        "amperes",
        "celsius",
        "hertz",
        "volt_amperes",
        "volt_amperes_reactive",
        "ratio",
        "joules",
        "coulombs",
        "ohms",
        "seconds",
    }
)

#: How an info channel's value may be written (``format``).
TEXT_FORMATS = ("", "version")

#: Metric and label names.
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Labels the exporter itself adds; a mapping may not use them as constant labels.
RESERVED_LABELS = frozenset({"state", "bit", "alarm", "target", "serial", "pack"})


class MappingError(Exception):
    """A mapping file that cannot be used; the message names file, entry and reason."""


@dataclass(frozen=True, eq=False)
class Channel(Generic[Location]):
    """One value of a device and how it becomes a metric (hashed by identity)."""

    #: The seed list's id of the channel (``refu.BatteryVoltage``): ``source`` in ``metrics``.
    seed_id: str
    metric: str
    kind: Kind
    help: str
    location: Location
    unit: str = ""
    scale: float = 1.0
    labels: tuple[tuple[str, str], ...] = ()
    states: Mapping[int, str] = field(default_factory=dict)
    bits: Mapping[int, str] = field(default_factory=dict)
    info_label: str = ""
    index_label: str = ""
    #: The ``index_label`` of an array's first value (cells count from 1, hours from 0).
    first_index: int = 1
    #: Raw values that mean "not reported" (e.g. 65535); such a value is not exported.
    missing_values: frozenset[float] = frozenset()
    #: How an info value is written: "" as sent, "version" as a dotted a.b.c.d number.
    text_format: str = ""
    #: The device model the channel is read from; channels of different variants may
    #: fill the same series (each model sends the value in its own message).
    variant: str = ""

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.labels)


@dataclass(frozen=True)
class DeviceMapping(Generic[Location]):
    device: str
    path: Path
    channels: tuple[Channel[Location], ...]
    #: The whole document, for device-level sections (e.g. PowerOcean's message routes).
    document: Mapping[str, Any]


LocationParser = Callable[[Mapping[str, Any]], Location]


def default_mapping_path(device: str) -> Path:
    """The mapping shipped with the exporter: inside the installed package, or the source tree."""
    packaged = Path(str(resources.files("exporter"))) / "mappings" / f"{device}.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "mappings" / f"{device}.yaml"


@contextmanager
def naming(where: str) -> Iterator[None]:
    """A ``ValueError`` inside (or the ``KeyError``, ``TypeError`` or ``AttributeError`` of a
    missing key or a wrong type) as a ``MappingError`` naming ``where``: file and part."""
    try:
        yield
    except KeyError as exc:
        raise MappingError(f"{where}: missing key {exc.args[0]!r}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise MappingError(f"{where}: {exc}") from None


def read_mapping_document(path: Path) -> Any:
    """The YAML document of a mapping file; a MappingError naming the file when unreadable."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read mapping: {exc}") from exc


def load_mapping(path: Path, parse_location: LocationParser[Location]) -> DeviceMapping[Location]:
    """Read and validate a mapping file.

    ``parse_location`` receives each entry and returns where its value is in the device's
    data; it raises ``ValueError`` with a reason when the entry's keys for that are wrong.
    """
    document = read_mapping_document(path)
    if not isinstance(document, dict):
        raise MappingError(f"{path}: expected a mapping with 'device' and 'channels'")
    device = document.get("device")
    entries = document.get("channels")
    if not isinstance(device, str) or not isinstance(entries, list):
        raise MappingError(f"{path}: expected keys 'device' (text) and 'channels' (a list)")

    channels = []
    for index, entry in enumerate(entries):
        source = f" ({entry['source']})" if isinstance(entry, dict) and "source" in entry else ""
        with naming(f"{path}: channels[{index}]{source}"):
            if not isinstance(entry, dict):
                raise ValueError("an entry must be a mapping")
            channels.append(_parse_channel(entry, device, parse_location))
    _check_families(path, channels)
    return DeviceMapping(device=device, path=path, channels=tuple(channels), document=document)


def _parse_channel(
    entry: Mapping[str, Any], device: str, parse_location: LocationParser[Location]
) -> Channel[Location]:
    kind = Kind(_one_of(entry, "kind", tuple(Kind), Kind.GAUGE))
    metric = _text(entry, "metric")
    unit = _one_of(entry, "unit", UNITS)
    _check_metric_name(metric, device, kind, unit)
    states = _numbered_texts(entry, "states") if kind is Kind.ENUM else {}
    if kind is Kind.ENUM and not states:
        raise ValueError("an enum needs 'states'")
    bits = _numbered_texts(entry, "bits") if kind is Kind.BITFIELD else {}
    if any(not 0 <= bit < 64 for bit in bits):
        raise ValueError("bit numbers must be 0..63")
    missing = list_of(entry, "missing_values", int | float, "numbers")
    return Channel(
        seed_id=_text(entry, "source"),
        metric=metric,
        kind=kind,
        help=_text(entry, "help"),
        location=parse_location(entry),
        unit=unit,
        scale=_scale(entry),
        labels=_constant_labels(entry),
        states=states,
        bits=bits,
        info_label=_label_name(entry, "label") if kind is Kind.INFO else "",
        index_label=_label_name(entry, "index_label") if kind is Kind.ARRAY else "",
        first_index=_first_index(entry),
        missing_values=frozenset(missing),
        text_format=_one_of(entry, "format", TEXT_FORMATS) if kind is Kind.INFO else "",
        variant=str(entry.get("variant", "")),
    )


def _first_index(entry: Mapping[str, Any]) -> int:
    first = entry.get("first_index", 1)
    if first not in (0, 1) or isinstance(first, bool):
        raise ValueError("first_index must be 0 or 1")
    return int(first)


def _one_of(entry: Mapping[str, Any], key: str, choices: Collection[str], default: str = "") -> str:
    value = entry.get(key, default)
    if value not in choices:
        known = ", ".join(sorted(filter(None, choices)))
        raise ValueError(f"unknown {key} {value!r} (one of: {known})")
    return str(value)


def _scale(entry: Mapping[str, Any]) -> float:
    scale = entry.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise ValueError(f"bad scale {scale!r}: must be a finite number")
    if scale == 0:
        raise ValueError("bad scale 0: every value would read 0")
    return float(scale)


def _constant_labels(entry: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    labels = entry.get("labels", {})
    if not isinstance(labels, dict):
        raise ValueError("'labels' must be a mapping of label name to value")
    for name in labels:
        if not _NAME.match(str(name)) or name in RESERVED_LABELS:
            raise ValueError(f"bad constant label name {name!r}")
    return tuple((str(k), str(v)) for k, v in labels.items())


def _check_metric_name(metric: str, device: str, kind: Kind, unit: str) -> None:
    if not _NAME.match(metric) or not metric.startswith(f"{device}_"):
        raise ValueError(f"metric {metric!r} must be snake_case and start with '{device}_'")
    suffix = {Kind.COUNTER: "_total", Kind.INFO: "_info"}.get(kind)
    if suffix and not metric.endswith(suffix):
        raise ValueError(f"{kind} {metric!r} must end in '{suffix}'")
    if kind is not Kind.COUNTER and metric.endswith("_total"):
        raise ValueError(f"{metric!r} ends in '_total' but is not a counter")
    if unit and not metric.removesuffix("_total").endswith(f"_{unit}"):
        raise ValueError(f"metric {metric!r} must end in its unit '_{unit}'")


def _check_families(path: Path, channels: list[Channel[Any]]) -> None:
    """Channels may share a metric (e.g. one per phase) only as one consistent family."""
    # Info channels of one family each add a label to the same series.
    series = attrgetter("metric", "labels", "info_label", "variant")
    family = attrgetter("kind", "unit", "help", "label_names")
    first: dict[str, Channel[Any]] = {}
    seen: set[object] = set()
    for channel in channels:
        if series(channel) in seen:
            raise MappingError(
                f"{path}: {channel.seed_id}: duplicate metric name {channel.metric!r}"
                + (f" with labels {dict(channel.labels)}" if channel.labels else "")
            )
        seen.add(series(channel))
        other = first.setdefault(channel.metric, channel)
        if family(other) != family(channel):
            raise MappingError(
                f"{path}: {channel.seed_id}: shares metric {channel.metric!r} with "
                f"{other.seed_id} but differs in kind, unit, help or label names"
            )


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be non-empty text")
    return value


def _label_name(entry: Mapping[str, Any], key: str) -> str:
    name = _text(entry, key)
    if not _NAME.match(name):
        raise ValueError(f"bad label name {name!r}")
    return name


def list_of(entry: Mapping[str, Any], key: str, item: Any, what: str) -> list[Any]:
    """The list ``entry[key]`` (empty when not given) of non-empty ``item`` values."""
    values = entry.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, item) and v != "" for v in values):
        raise ValueError(f"{key!r} must be a list of {what}")
    return values


def _numbered_texts(entry: Mapping[str, Any], key: str) -> dict[int, str]:
    value = entry.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, int) and not isinstance(k, bool) and isinstance(v, str)
        for k, v in value.items()
    ):
        raise ValueError(f"{key!r} must map whole numbers to texts")
    return dict(value)

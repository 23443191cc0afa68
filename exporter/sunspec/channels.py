"""The SunSpec mapping: every model definition, made groups of channels.

The models are the SunSpec Alliance's JSON model definitions as pysunspec2 ships them,
and the vendor models of ``mappings/sunspec.yaml`` in the same format. The mapping file
also names metrics (prefixes per model, names per point), turns SunSpec units into base
units, and says where devices depart from a definition (REFU's state 9, a signed DC
current). ``load_sunspec_mapping`` builds each model once; nothing here does I/O on a
device.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sunspec2 import mdef

from exporter.model import (
    RESERVED_LABELS,
    Channel,
    Kind,
    default_mapping_path,
    naming,
    read_mapping_document,
)
from exporter.sunspec.points import (
    POINT_TYPES,
    TO_THE_END,
    Group,
    Model,
    Point,
    PointRef,
    PointType,
)

DEVICE = "sunspec"
#: The points every model starts with: its id and length (the chain, not values).
_HEADER = ("ID", "L")


@dataclass(frozen=True)
class SunSpecMapping:
    #: Every model the exporter can decode, by id.
    models: Mapping[int, Model]
    #: Models a chain may hold that are never exported, with the reason.
    unread: Mapping[int, str]

    def groups(self) -> Iterator[Group]:
        """Every group of every model, by model id, each group before the ones it holds."""
        for model_id in sorted(self.models):
            yield from _walk(self.models[model_id].top)


def _walk(group: Group) -> Iterator[Group]:
    yield group
    for child, _ in group.children:
        yield from _walk(child)


def load_sunspec_mapping(path: Path | None = None) -> SunSpecMapping:
    """The SunSpec mapping at ``path``; the shipped one (the default) is built once."""
    return _read_sunspec_mapping(path) if path else _shipped_sunspec_mapping()


@functools.cache
def _shipped_sunspec_mapping() -> SunSpecMapping:
    return _read_sunspec_mapping(default_mapping_path(DEVICE))


def shipped_definitions() -> Iterator[dict[str, Any]]:
    """The SunSpec Alliance's model definitions, as pysunspec2 ships them."""
    for entry in _SHIPPED.iterdir():
        if re.fullmatch(r"model_\d+\.json", entry.name):
            yield json.loads(entry.read_text(encoding="utf-8"))


def shipped_definition(model_id: int) -> dict[str, Any] | None:
    """The definition of one model as pysunspec2 ships it; None when it has none. (Reading
    only the models decoded keeps the 60 or so others out of the exporter's memory.)"""
    entry = _SHIPPED.joinpath(f"model_{model_id}.json")
    return json.loads(entry.read_text(encoding="utf-8")) if entry.is_file() else None


_SHIPPED = resources.files("sunspec2").joinpath("models", "json")


def _read_sunspec_mapping(path: Path) -> SunSpecMapping:
    document = read_mapping_document(path)
    with naming(f"{path}"):
        if not isinstance(document, dict) or document.get("device") != DEVICE:
            raise ValueError(f"expected a mapping with device: {DEVICE}")
        vendor = [_vendor_model(definition) for definition in document.get("vendor_models", [])]
        known = {d["id"]: d for d in vendor}
        decoded = [int(model_id) for model_id in document["decoded"]]
        found = {m: known.get(m) or shipped_definition(m) for m in decoded}
        definitions = {m: definition for m, definition in found.items() if definition}
        missing = [model_id for model_id in decoded if model_id not in definitions]
        if missing:
            raise ValueError(f"no definition of decoded models {missing}")
        names = {int(k): v for k, v in document.get("models", {}).items()}
        departures = {int(k): v for k, v in document.get("departures", {}).items()}
        builder = _Builder(path, document["units"], names, definitions)
        models = {
            model_id: builder.model(definitions[model_id], departures.get(model_id, {}))
            for model_id in sorted(definitions)
        }
        unread = {int(k): str(v) for k, v in document.get("unread", {}).items()}
    return SunSpecMapping(MappingProxyType(models), MappingProxyType(unread))


def _vendor_model(definition: Any) -> dict[str, Any]:
    # pysunspec2's validator walks the group, and fails with an AttributeError without one.
    if not isinstance(definition, dict) or not isinstance(definition.get("group"), dict):
        raise ValueError("a vendor model must be a model definition")
    problems = mdef.validate_model_def(definition)
    if problems:
        raise ValueError(f"vendor model {definition.get('id')}: {problems.strip()}")
    return definition


def snake_case(name: str) -> str:
    """A SunSpec name as a metric name part: ``PhVphA`` -> ``ph_vph_a``, ``DERMeasureAC`` ->
    ``der_measure_ac``, ``lithium-ion-module`` -> ``lithium_ion_module``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


#: Where a point is found while its group is built: its offset and type.
_Scope = dict[str, tuple[int, PointType]]


class _Builder:
    """Builds models, keeping the metrics that models sharing a prefix share consistent."""

    def __init__(
        self,
        path: Path,
        units: Mapping[str, Sequence[Any]],
        names: Mapping[int, Mapping[str, Any]],
        definitions: Mapping[int, Mapping[str, Any]],
    ) -> None:
        self.path = path
        self.units = {str(k): (str(unit), float(factor)) for k, (unit, factor) in units.items()}
        self.names = names
        #: The models of each prefix, for HELP texts; a metric's HELP and shape, the first seen.
        self.prefix_ids: dict[str, list[int]] = {}
        for model_id in sorted(definitions):
            prefix = self._prefix(model_id, definitions[model_id]["group"])
            self.prefix_ids.setdefault(prefix, []).append(model_id)
        self.helps: dict[str, str] = {}
        self.shapes: dict[str, tuple[Kind, str, tuple[str, ...]]] = {}

    def _prefix(self, model_id: int, group: Mapping[str, Any]) -> str:
        return str(self.names.get(model_id, {}).get("prefix") or snake_case(group["name"]))

    def model(self, definition: Mapping[str, Any], departures: Mapping[str, Any]) -> Model:
        model_id = int(definition["id"])
        top = definition["group"]
        with naming(f"{self.path}: model {model_id}"):
            prefix = self._prefix(model_id, top)
            context = _ModelContext(model_id, prefix, self.names.get(model_id, {}), departures)
            group = self._group(context, top, [], "", (), "")
        return Model(model_id, str(top["name"]), group)

    def _group(
        self,
        model: _ModelContext,
        definition: Mapping[str, Any],
        scopes: list[_Scope],
        path: str,
        index_labels: tuple[str, ...],
        index_label: str,
    ) -> Group:
        """A group and the groups it holds; ``scopes`` are the points of the groups around it,
        ``index_labels`` the labels numbering it and the repeated groups around it."""
        own: _Scope = {}
        size = 0
        points = []
        for point in definition.get("points", []):
            point = model.departed(path, point)
            point_type = POINT_TYPES[point["type"]]
            own[point["name"]] = (size, point_type)
            points.append((size, point_type, point))
            size += point_type.words or int(point["size"])
        scopes = [*scopes, own]
        channels = tuple(
            self._channel(model, path, offset, point_type, point, scopes, index_labels)
            for offset, point_type, point in points
            if point_type.kind is not None and not (not path and point["name"] in _HEADER)
        )
        children = []
        for child in definition.get("groups", []):
            count = child.get("count", 1)
            label = model.group_name(child["name"]) if count != 1 else ""
            if label in (*RESERVED_LABELS, *index_labels):
                raise ValueError(f"group {child['name']!r}: label {label!r} is taken")
            inner = self._group(
                model,
                child,
                scopes,
                f"{path}{child['name']}.",
                (*index_labels, label) if label else index_labels,
                label,
            )
            counted = _reference(scopes, count) if isinstance(count, str) else int(count)
            children.append((inner, counted if counted != 0 else TO_THE_END))
        return Group(path, channels, size, tuple(children), index_labels, index_label)

    def _channel(
        self,
        model: _ModelContext,
        path: str,
        offset: int,
        point_type: PointType,
        point: Mapping[str, Any],
        scopes: list[_Scope],
        index_labels: tuple[str, ...],
    ) -> Channel[Point]:
        name = str(point["name"])
        given = model.point_names(path, name)
        kind = point_type.kind or Kind.GAUGE
        stem = "_".join([DEVICE, model.prefix, *map(model.group_name, path.split(".")[:-1])]) + "_"
        point_name = str(given.get("name") or snake_case(name))
        units = str(point.get("units", ""))
        unit, factor = self.units.get(units, ("", 1.0))
        if kind is Kind.INFO:
            metric, unit, factor = f"{stem}info", "", 1.0
        elif kind in (Kind.ENUM, Kind.BITFIELD):
            metric, unit, factor = stem + point_name, "", 1.0
        else:
            metric = "_".join(filter(None, [stem + point_name, unit]))
            metric += "_total" if kind is Kind.COUNTER else ""
        labels = tuple((str(k), str(v)) for k, v in given.get("labels", {}).items())
        if any(label in (*RESERVED_LABELS, *index_labels) for label, _ in labels):
            raise ValueError(f"{path}{name}: a constant label name is taken")
        symbols = {int(s["value"]): str(s["name"]) for s in point.get("symbols", [])}
        scale = point.get("sf")
        channel = Channel(
            seed_id=f"{model.id}.{path}{name}",
            metric=metric,
            kind=kind,
            help=self._help(metric, model, path, point, given.get("help"), units),
            location=Point(
                offset,
                point_type,
                point_type.words or int(point["size"]),
                _reference(scopes, scale) if isinstance(scale, str) else scale,
            ),
            unit=unit,
            scale=factor,
            labels=labels,
            states=symbols if kind is Kind.ENUM else {},
            bits=symbols if kind is Kind.BITFIELD else {},
            info_label=point_name if kind is Kind.INFO else "",
        )
        self._check_shape(channel, index_labels)
        return channel

    def _help(
        self,
        metric: str,
        model: _ModelContext,
        path: str,
        point: Mapping[str, Any],
        given: Any,
        units: str,
    ) -> str:
        """The metric's HELP: the mapping's words for a metric several points make, else
        the definition's; the first channel's for all channels of the metric."""
        ids = self.prefix_ids[model.prefix]
        models = f"model {ids[0]}" if len(ids) == 1 else f"models {', '.join(map(str, ids))}"
        if point["type"] in ("string", "ipaddr", "ipv6addr", "eui48"):
            group = path.rstrip(".") or model.prefix
            text = f"Texts of SunSpec {models} ({group}), one label per point"
        elif given:
            text = f"{given} (SunSpec {models})"
        else:
            words = str(point.get("desc") or point.get("label") or point["name"]).rstrip(".")
            sent_in = f", in {units.strip()}" if units.strip() and units not in self.units else ""
            text = f"{words} (SunSpec {models}, point {path}{point['name']}{sent_in})"
        return self.helps.setdefault(metric, text + ".")

    def _check_shape(self, channel: Channel[Point], index_labels: tuple[str, ...]) -> None:
        """Channels sharing a metric must agree on what it is."""
        shape = (channel.kind, channel.unit, (*index_labels, *channel.label_names))
        first = self.shapes.setdefault(channel.metric, shape)
        if first != shape:
            raise ValueError(
                f"{channel.seed_id}: {channel.metric} is made by another point as another "
                "kind, unit or label set"
            )


def _reference(scopes: list[_Scope], name: str) -> PointRef:
    """The point ``name`` of the innermost group in ``scopes`` that has it."""
    for depth, scope in enumerate(reversed(scopes)):
        if name in scope:
            offset, point_type = scope[name]
            return PointRef(depth, offset, point_type)
    raise ValueError(f"no point {name!r} for a scale factor or count")


@dataclass(frozen=True)
class _ModelContext:
    """What the mapping file says about one model while it is built."""

    id: int
    prefix: str
    names: Mapping[str, Any]
    departures: Mapping[str, Any]

    def point_names(self, path: str, name: str) -> Mapping[str, Any]:
        given = self.names.get("points", {}).get(f"{path}{name}", {})
        if not isinstance(given, dict):
            raise ValueError(f"point {path}{name}: expected name and labels")
        return given

    def group_name(self, name: str) -> str:
        return str(self.names.get("groups", {}).get(name) or snake_case(name))

    def departed(self, path: str, point: Mapping[str, Any]) -> Mapping[str, Any]:
        """The point as the device sends it: another type, more enum states."""
        departure = self.departures.get(f"{path}{point['name']}")
        if not departure:
            return point
        changed = dict(point)
        if "type" in departure:
            if POINT_TYPES[departure["type"]].words != POINT_TYPES[point["type"]].words:
                raise ValueError(f"{point['name']}: a departed type must have the same size")
            changed["type"] = departure["type"]
        states = departure.get("states", {})
        changed["symbols"] = [
            *point.get("symbols", []),
            *({"name": text, "value": value} for value, text in states.items()),
        ]
        return changed

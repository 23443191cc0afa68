"""The PowerOcean mapping: message routes, field paths, and reading a field's value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from exporter.mapping import (
    Channel,
    DeviceMapping,
    Kind,
    MappingError,
    default_mapping_path,
    load_mapping,
)
from exporter.powerocean.envelope import read_number
from exporter.powerocean.proto import powerocean_pb2

PathStep = str | int


@dataclass(frozen=True)
class Field:
    """Where a channel's value is: a message name and a path inside that message."""

    message: str
    path: tuple[PathStep, ...]


@dataclass(frozen=True)
class Route:
    """Which message a (cmd_func, cmd_id) frame holds; ``packs`` names its per-pack list."""

    name: str
    message_type: type[Message]
    packs: str = ""
    pack_key: str = ""
    pack_slot: str = ""


PowerOceanChannel = Channel[Field]


@dataclass(frozen=True)
class PowerOceanMapping:
    mapping: DeviceMapping[Field]
    routes: Mapping[tuple[int, int], Route]

    @property
    def channels(self) -> tuple[PowerOceanChannel, ...]:
        return self.mapping.channels

    def channels_of(self, message: str) -> tuple[PowerOceanChannel, ...]:
        return tuple(c for c in self.channels if c.address.message == message)


def read_field(message: Message, path: tuple[PathStep, ...]) -> Any:
    """The value at ``path``: a number, a text, a list for repeated numbers, or None.

    None means the path's list position does not exist (e.g. a third solar string on a
    two-string model). A scalar missing from the message reads 0, as proto3 sends it.
    """
    node: Any = message
    for step in path[:-1]:
        if isinstance(step, int):
            if step >= len(node):
                return None
            node = node[step]
        else:
            node = getattr(node, step)
    leaf = path[-1]
    value = getattr(node, str(leaf))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, int | float):
        return value if value else read_number(node, str(leaf))
    if isinstance(value, str):
        return value
    return list(value)


def load_powerocean_mapping(path: Path | None = None) -> PowerOceanMapping:
    path = path or default_mapping_path("powerocean")
    mapping = load_mapping(path, _parse_field)
    routes = _routes(mapping)
    names = {route.name: route for route in routes.values()}
    pack_metrics: dict[str, bool] = {}
    for channel in mapping.channels:
        route = names.get(channel.address.message)
        if route is None:
            raise MappingError(
                f"{path}: {channel.source}: message {channel.address.message!r} has no route"
            )
        descriptor = route.message_type.DESCRIPTOR
        if route.packs:
            descriptor = descriptor.fields_by_name[route.packs].message_type
        try:
            _check_path(descriptor, channel.address.path, channel.kind)
        except ValueError as exc:
            raise MappingError(f"{path}: {channel.source}: field: {exc}") from None
        if pack_metrics.setdefault(channel.metric, bool(route.packs)) != bool(route.packs):
            raise MappingError(f"{path}: {channel.source}: {channel.metric} mixes pack and system")
    return PowerOceanMapping(mapping, routes)


def _parse_field(entry: Mapping[str, Any]) -> Field:
    message, field = entry["message"], entry["field"]
    if not isinstance(message, str) or not isinstance(field, str) or not field:
        raise ValueError("'message' and 'field' must be text")
    steps = tuple(int(step) if step.isdigit() else step for step in field.split("."))
    return Field(message, steps)


def _routes(mapping: DeviceMapping[Field]) -> dict[tuple[int, int], Route]:
    routes: dict[tuple[int, int], Route] = {}
    for name, spec in (mapping.document.get("messages") or {}).items():
        where = f"{mapping.path}: messages.{name}"
        message_type = getattr(powerocean_pb2, name, None)
        if not isinstance(spec, dict) or message_type is None:
            raise MappingError(f"{where}: not a message of the schema, or not a mapping")
        key = (spec.get("cmd_func"), spec.get("cmd_id"))
        if not all(isinstance(k, int) for k in key) or key in routes:
            raise MappingError(f"{where}: needs a unique whole-number cmd_func and cmd_id")
        route = Route(
            name,
            message_type,
            spec.get("packs", ""),
            spec.get("pack_key", ""),
            spec.get("pack_slot", ""),
        )
        if route.packs and route.packs not in message_type.DESCRIPTOR.fields_by_name:
            raise MappingError(f"{where}: no field {route.packs!r}")
        routes[key] = route  # type: ignore[index]
    return routes


def _check_path(descriptor: Descriptor, path: tuple[PathStep, ...], kind: Kind) -> None:
    field: FieldDescriptor | None = None
    expect_index = False
    for step in path:
        if isinstance(step, int):
            if not expect_index:
                raise ValueError(f"position {step} follows no repeated message")
            expect_index = False
            continue
        if expect_index or descriptor is None:
            raise ValueError(f"{step!r} cannot follow a repeated field or a number")
        field = descriptor.fields_by_name.get(step)
        if field is None:
            raise ValueError(f"no field {step!r} in {descriptor.name}")
        repeated = field.is_repeated
        descriptor = field.message_type
        expect_index = repeated and descriptor is not None
    assert field is not None
    repeated_scalar = field.is_repeated and field.message_type is None
    if (kind is Kind.ARRAY) != repeated_scalar or field.message_type is not None:
        raise ValueError(f"{field.name} does not fit kind {kind}")

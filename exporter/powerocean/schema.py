"""The PowerOcean mapping: which frame holds which message, and where each channel is.

``mappings/powerocean.yaml`` routes a frame's (cmd_func, cmd_id) to a message kind and
the schema message it is parsed with (``proto/powerocean.proto``). Several kinds may
share one schema message: Plus firmware splits the EMS report into settings (96/8),
safety parameters (96/16) and state (96/17) with one field numbering. A channel names
a schema message and a path inside it, and is read from whichever kind reported it last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
from exporter.powerocean.proto import powerocean_pb2

#: A field's place in a message: names, and list positions inside repeated messages.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Field:
    """Where a channel's value is: a schema message and a path inside it."""

    message: str
    path: FieldPath


@dataclass(frozen=True)
class Route:
    """What a (cmd_func, cmd_id) frame holds and how its values are kept.

    ``name`` is the message kind (the ``message`` label of the health series),
    ``schema`` the schema message it is parsed with. A route with an ``entry_label``
    reports on things inside the system (battery packs, modules, inverters): one entry
    per thing, from the repeated field ``entries`` (or the whole message when empty),
    named by the first of its ``entry_key`` fields that is set (numbers through
    ``entry_names``). A ``complete`` message is the whole state: each replaces the last
    and a field it leaves out is 0 (firmware sends it without field presence). A
    ``lasting`` message is sent on change only: its values hold while the system is up.
    """

    name: str
    schema: str
    message_type: type[Message]
    entries: str = ""
    entry_label: str = ""
    entry_key: tuple[str, ...] = ()
    entry_names: Mapping[int, str] = field(default_factory=dict)
    complete: bool = False
    lasting: bool = False

    def entry_name(self, fields: Mapping[FieldPath, Any]) -> str:
        """The thing an entry reports on, or "" for an empty placeholder entry."""
        for key in self.entry_key:
            value = fields.get((key,))
            if value:
                return self.entry_names.get(value, str(value)) if isinstance(value, int) else value
        return ""


PowerOceanChannel = Channel[Field]


@dataclass(frozen=True)
class PowerOceanMapping:
    mapping: DeviceMapping[Field]
    routes: Mapping[tuple[int, int], Route]
    #: Commands known to carry nothing the exporter shows, by name; not counted as unknown.
    ignored: Mapping[tuple[int, int], str]

    @property
    def channels(self) -> tuple[PowerOceanChannel, ...]:
        return self.mapping.channels

    @property
    def entry_routes(self) -> dict[str, Route]:
        """The route of each schema message that reports entries."""
        return {r.schema: r for r in self.routes.values() if r.entry_label}

    def kinds_of(self, schema: str) -> tuple[str, ...]:
        """The message kinds parsed with ``schema``."""
        return tuple(route.name for route in self.routes.values() if route.schema == schema)


def load_powerocean_mapping(path: Path | None = None) -> PowerOceanMapping:
    path = path or default_mapping_path("powerocean")
    mapping = load_mapping(path, _parse_field)
    routes = _routes(mapping)
    schemas = {route.schema: route for route in routes.values()}
    entry_labels: dict[str, str] = {}
    for channel in mapping.channels:
        where = f"{path}: {channel.source}"
        route = schemas.get(channel.address.message)
        if route is None:
            raise MappingError(f"{where}: message {channel.address.message!r} has no route")
        descriptor = route.message_type.DESCRIPTOR
        if route.entries:
            descriptor = descriptor.fields_by_name[route.entries].message_type
        try:
            _check_path(descriptor, channel.address.path, channel.kind)
        except ValueError as exc:
            raise MappingError(f"{where}: field: {exc}") from None
        if entry_labels.setdefault(channel.metric, route.entry_label) != route.entry_label:
            raise MappingError(f"{where}: {channel.metric} mixes entries of different kinds")
    return PowerOceanMapping(mapping, routes, _ignored(mapping))


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
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: must be a mapping")
        key = (spec.get("cmd_func"), spec.get("cmd_id"))
        if not all(isinstance(k, int) for k in key) or key in routes:
            raise MappingError(f"{where}: needs a unique whole-number cmd_func and cmd_id")
        try:
            routes[key] = _route(name, spec)  # type: ignore[index]
        except ValueError as exc:
            raise MappingError(f"{where}: {exc}") from None
    return routes


def _route(name: str, spec: Mapping[str, Any]) -> Route:
    schema = str(spec.get("schema", name))
    message_type = getattr(powerocean_pb2, schema, None)
    if message_type is None:
        raise ValueError(f"{schema!r} is not a message of the schema")
    entries = spec.get("entries", "")
    entry = message_type.DESCRIPTOR
    if entries:
        if entries not in entry.fields_by_name:
            raise ValueError(f"no field {entries!r}")
        entry = entry.fields_by_name[entries].message_type
    entry_key = tuple(spec.get("entry_key", ()))
    unknown = [k for k in entry_key if k not in entry.fields_by_name]
    if unknown or bool(entry_key) != bool(spec.get("entry_label")):
        raise ValueError("'entry_label' needs 'entry_key' fields of the entry message")
    return Route(
        name,
        schema,
        message_type,
        entries=entries,
        entry_label=spec.get("entry_label", ""),
        entry_key=entry_key,
        entry_names=dict(spec.get("entry_names") or {}),
        complete=bool(spec.get("complete", False)),
        lasting=bool(spec.get("lasting", False)),
    )


def _ignored(mapping: DeviceMapping[Field]) -> dict[tuple[int, int], str]:
    """``ignored_commands``: ``"<cmd_func>/<cmd_id>": NAME`` entries."""
    ignored: dict[tuple[int, int], str] = {}
    for command, name in (mapping.document.get("ignored_commands") or {}).items():
        cmd_func, _, cmd_id = str(command).partition("/")
        if not (cmd_func.isdigit() and cmd_id.isdigit() and isinstance(name, str) and name):
            raise MappingError(
                f"{mapping.path}: ignored_commands.{command}: needs 'cmd_func/cmd_id: NAME'"
            )
        ignored[(int(cmd_func), int(cmd_id))] = name
    return ignored


def _check_path(descriptor: Descriptor, path: FieldPath, kind: Kind) -> None:
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

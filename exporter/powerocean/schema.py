"""The PowerOcean mapping: which frame holds which message, and where each channel is.

``mappings/powerocean.yaml`` routes a frame's (cmd_func, cmd_id) to a named message and
the schema message it is parsed with (``proto/powerocean.proto``). Several messages may
share one schema message: Plus firmware splits the EMS report into settings (96/8),
safety parameters (96/16) and state (96/17) with one field numbering. A channel names
a schema message and a path inside it, and is read from whichever message reported it
last.

Models differ in layout: a PowerOcean DC Fit sends its own 96/1 and 96/33. A route with a
``model`` applies to systems of that model only, and a system's model is what its frames
say: a header's product id, the component inventory's product type, else its serial prefix.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from exporter.model import (
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


#: The ``message`` of a channel only the Open API reports (its field is the quota key).
OPEN_API_QUOTA = "OPEN_API_QUOTA"


@dataclass(frozen=True)
class Field:
    """Where a channel's value is: a schema message and a path inside it, and its key in
    the Open API's quota map (``quota``, "" when the Open API does not report it)."""

    message: str
    path: FieldPath
    quota: str = ""


@dataclass(frozen=True)
class OpenApiLayout:
    """How the Open API's quota messages are laid out.

    The MQTT quota stream sends ``{"cmdFunc", "cmdId", "param": {...}}``; the keys of
    ``param`` of a command in ``stream_commands`` are quota keys once prefixed with its
    value. Packs: quota/all holds one JSON text per pack under ``pack_prefix + serial``;
    the stream sends them as the list ``pack_list`` of ``pack_command``, each entry naming
    its pack in ``pack_serial`` (base64).
    """

    stream_commands: Mapping[tuple[int, int], str] = field(default_factory=dict)
    pack_prefix: str = ""
    pack_command: tuple[int, int] = (0, 0)
    pack_list: str = ""
    pack_serial: str = ""


@dataclass(frozen=True)
class Route:
    """What a (cmd_func, cmd_id) frame holds and how its values are kept.

    ``name`` names the message (the ``message`` label of the health series),
    ``schema`` the schema message it is parsed with. A route with an ``entry_label``
    reports on things inside the system (battery packs, components, inverters): one entry
    per thing, from the repeated field ``entries`` (or the whole message when empty),
    named by the first of its ``entry_key`` fields that is set (numbers through
    ``entry_names``). A ``complete`` message is the whole state: each replaces the last
    and a field it leaves out is 0 (firmware sends it without field presence). A
    ``lasting`` message is sent on change only: its values hold while the system is up.
    """

    name: str
    command: tuple[int, int]
    schema: str
    message_type: type[Message]
    model: str = ""
    #: A field of the message (or its entries) that names the system's product type.
    tells_model: str = ""
    entries: str = ""
    entry_label: str = ""
    entry_key: tuple[str, ...] = ()
    entry_names: Mapping[int, str] = field(default_factory=dict)
    complete: bool = False
    lasting: bool = False

    def entry_name(self, fields: Mapping[FieldPath, object]) -> str:
        """The thing an entry reports on, or "" for an empty placeholder entry;
        ``fields`` are the entry's reported fields."""
        for key in self.entry_key:
            value = fields.get((key,))
            if isinstance(value, int) and value:
                return self.entry_names.get(value, str(value))
            if value:
                return str(value)
        return ""


PowerOceanChannel = Channel[Field]


@dataclass(frozen=True)
class ModelRules:
    """How a system's model is told: product type codes and serial prefixes per model."""

    product_types: Mapping[int, str] = field(default_factory=dict)
    serial_prefixes: tuple[tuple[str, str], ...] = ()

    def from_serial(self, serial: str) -> str:
        return next((m for prefix, m in self.serial_prefixes if serial.startswith(prefix)), "")


@dataclass(frozen=True)
class PowerOceanMapping:
    model: DeviceMapping[Field]
    #: Every route, by message name.
    routes: Mapping[str, Route]
    #: Commands known to carry nothing the exporter shows, by name; not counted as unknown.
    ignored: Mapping[tuple[int, int], str]
    models: ModelRules = ModelRules()
    open_api: OpenApiLayout = OpenApiLayout()
    #: Every route, by (model, cmd_func, cmd_id); made from ``routes``.
    _by_command: Mapping[tuple[str, int, int], Route] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_command = {(r.model, *r.command): r for r in self.routes.values()}
        object.__setattr__(self, "_by_command", MappingProxyType(by_command))

    @property
    def channels(self) -> tuple[PowerOceanChannel, ...]:
        return self.model.channels

    def route(self, model: str, cmd_func: int, cmd_id: int) -> Route | None:
        """The route of a command for a system of ``model``: its own, else the default."""
        return self._by_command.get((model, cmd_func, cmd_id)) or self._by_command.get(
            ("", cmd_func, cmd_id)
        )

    def routes_of(self, schema: str) -> tuple[Route, ...]:
        """The routes whose messages are parsed with ``schema``."""
        return tuple(route for route in self.routes.values() if route.schema == schema)


def load_powerocean_mapping(path: Path | None = None) -> PowerOceanMapping:
    """The PowerOcean mapping at ``path``; the shipped one (the default) is read once."""
    return _read_powerocean_mapping(path) if path else _shipped_powerocean_mapping()


@functools.cache
def _shipped_powerocean_mapping() -> PowerOceanMapping:
    return _read_powerocean_mapping(default_mapping_path("powerocean"))


def _read_powerocean_mapping(path: Path) -> PowerOceanMapping:
    mapping = load_mapping(path, _parse_field)
    routes = _routes(mapping)
    schemas = {route.schema: route for route in routes.values()}
    entry_labels: dict[str, str] = {}
    for channel in mapping.channels:
        where = f"{path}: {channel.seed_id}"
        if channel.location.message == OPEN_API_QUOTA:
            continue
        route = schemas.get(channel.location.message)
        if route is None:
            raise MappingError(f"{where}: message {channel.location.message!r} has no route")
        descriptor: Descriptor | None = _descriptor(route.message_type)
        if route.entries and descriptor is not None:
            descriptor = descriptor.fields_by_name[route.entries].message_type
        try:
            _check_path(descriptor, channel.location.path, channel.kind)
        except ValueError as exc:
            raise MappingError(f"{where}: field: {exc}") from None
        if entry_labels.setdefault(channel.metric, route.entry_label) != route.entry_label:
            raise MappingError(f"{where}: {channel.metric} mixes different entry labels")
    return PowerOceanMapping(
        mapping, routes, _ignored(mapping), _model_rules(mapping), _open_api_layout(mapping)
    )


def _open_api_layout(mapping: DeviceMapping[Field]) -> OpenApiLayout:
    spec = mapping.document.get("open_api") or {}
    try:
        stream = spec.get("stream_commands") or {}
        packs = spec.get("pack_stream") or {}
        return OpenApiLayout(
            stream_commands={_command(k): str(v) for k, v in stream.items()},
            pack_prefix=str(spec.get("pack_prefix", "")),
            pack_command=_command(packs.get("command", "0/0")),
            pack_list=str(packs.get("list", "")),
            pack_serial=str(packs.get("serial", "")),
        )
    except (AttributeError, ValueError) as exc:
        raise MappingError(f"{mapping.path}: open_api: {exc}") from None


def _command(text: str) -> tuple[int, int]:
    """``"96/7"`` -> (96, 7)."""
    cmd_func, _, cmd_id = str(text).partition("/")
    if not (cmd_func.isdigit() and cmd_id.isdigit()):
        raise ValueError(f"{text!r} is not cmd_func/cmd_id")
    return int(cmd_func), int(cmd_id)


def _model_rules(mapping: DeviceMapping[Field]) -> ModelRules:
    """``models``: ``NAME: {product_types: [...], serial_prefixes: [...]}``."""
    product_types: dict[int, str] = {}
    prefixes: list[tuple[str, str]] = []
    for model, spec in (mapping.document.get("models") or {}).items():
        codes = spec.get("product_types", []) if isinstance(spec, dict) else None
        starts = spec.get("serial_prefixes", []) if isinstance(spec, dict) else None
        if not (isinstance(codes, list) and all(isinstance(c, int) for c in codes)) or not (
            isinstance(starts, list) and all(isinstance(p, str) and p for p in starts)
        ):
            raise MappingError(
                f"{mapping.path}: models.{model}: needs lists 'product_types' and 'serial_prefixes'"
            )
        product_types.update(dict.fromkeys(codes, str(model)))
        prefixes += [(prefix, str(model)) for prefix in starts]
    return ModelRules(product_types, tuple(prefixes))


def _parse_field(entry: Mapping[str, Any]) -> Field:
    message, path, quota = entry["message"], entry["field"], entry.get("quota", "")
    if not all(isinstance(text, str) for text in (message, path, quota)) or not path:
        raise ValueError("'message', 'field' and 'quota' must be text")
    if message == OPEN_API_QUOTA:
        return Field(message, (path,), quota or path)
    steps = tuple(int(step) if step.isdigit() else step for step in path.split("."))
    return Field(message, steps, quota)


def _routes(mapping: DeviceMapping[Field]) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    commands: set[tuple[str, int, int]] = set()
    models = set(mapping.document.get("models") or {})
    for name, spec in (mapping.document.get("messages") or {}).items():
        where = f"{mapping.path}: messages.{name}"
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: must be a mapping")
        command = (spec.get("cmd_func"), spec.get("cmd_id"))
        key = (spec.get("model", ""), *command)
        if not all(isinstance(k, int) for k in command) or key in commands:
            raise MappingError(f"{where}: needs a unique whole-number cmd_func and cmd_id")
        if key[0] and key[0] not in models:
            raise MappingError(f"{where}: model {key[0]!r} is not listed under 'models'")
        commands.add(key)  # type: ignore[arg-type]
        try:
            routes[str(name)] = _route(str(name), command, spec)  # type: ignore[arg-type]
        except ValueError as exc:
            raise MappingError(f"{where}: {exc}") from None
    return routes


def _route(name: str, command: tuple[int, int], spec: Mapping[str, Any]) -> Route:
    schema = str(spec.get("schema", name))
    message_type = getattr(powerocean_pb2, schema, None)
    if message_type is None:
        raise ValueError(f"{schema!r} is not a message of the schema")
    entries = spec.get("entries", "")
    entry = _descriptor(message_type)
    if entries:
        below = entry.fields_by_name.get(entries)
        if below is None or below.message_type is None:
            raise ValueError(f"no field {entries!r} holding messages")
        entry = below.message_type
    entry_key = tuple(spec.get("entry_key", ()))
    unknown = [
        k for k in (*entry_key, spec.get("tells_model")) if k and k not in entry.fields_by_name
    ]
    if unknown or bool(entry_key) != bool(spec.get("entry_label")):
        raise ValueError(f"'entry_key' and 'tells_model' need fields of the entry: {unknown}")
    return Route(
        name,
        command,
        schema,
        message_type,
        model=str(spec.get("model", "")),
        tells_model=spec.get("tells_model", ""),
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
        try:
            if not isinstance(name, str) or not name:
                raise ValueError("needs a name")
            ignored[_command(command)] = name
        except ValueError as exc:
            raise MappingError(f"{mapping.path}: ignored_commands.{command}: {exc}") from None
    return ignored


def _descriptor(message_type: type[Message]) -> Descriptor:
    """The descriptor of a message type (protobuf's C classes are its Python classes)."""
    descriptor = message_type.DESCRIPTOR
    assert isinstance(descriptor, Descriptor)
    return descriptor


def _check_path(descriptor: Descriptor | None, path: FieldPath, kind: Kind) -> None:
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

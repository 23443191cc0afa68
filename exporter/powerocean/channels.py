"""The PowerOcean mapping: which frame holds which message, and where each channel is.

``mappings/powerocean.yaml`` routes a frame's (cmd_func, cmd_id) to a named message and
the schema message it is parsed with (``proto/powerocean.proto``). Several messages may
share one schema message: Plus firmware splits the EMS report into settings (96/8),
safety parameters (96/16) and state (96/17) with one field numbering. A channel names
a schema message and a path inside it, and is read from whichever message reported it
last.

Models differ in layout: a PowerOcean DC Fit sends its own 96/1 and 96/33, an Ocean 2 its
own commands. A route with a ``model`` applies to systems of that model only, and a system's
model is what its frames say: a header's product id, the component inventory's product type,
a command only that model sends, else its serial prefix. Models differ in what keeps them
streaming too: a model's ``data_requests`` are the requests its systems are sent (an Ocean 2
has no energy-stream switch).

``integrated_energy`` names the power fields the exporter integrates into energy counters
(channels of the message ``INTEGRATED_ENERGY``) where the device keeps none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from exporter.model import (
    Channel,
    DeviceMapping,
    Kind,
    MappingError,
    default_mapping_path,
    list_of,
    load_mapping,
    naming,
)
from exporter.powerocean.proto import powerocean_pb2
from exporter.powerocean.wire import DATA_REQUESTS, DataRequest

T = TypeVar("T")

#: A field's place in a message: names, and list positions inside repeated messages.
FieldPath = tuple[str | int, ...]


#: The ``message`` of a channel only the Open API reports (its field is the quota key).
OPEN_API_QUOTA = "OPEN_API_QUOTA"
#: The ``message`` of the energy the exporter integrates from power (its field: the flow).
INTEGRATED_ENERGY = "INTEGRATED_ENERGY"


@dataclass(frozen=True)
class Field:
    """Where a channel's value is: a schema message and a path inside it, and its key in
    the Open API's quota map (``quota``, "" when the Open API does not report it)."""

    message: str
    path: FieldPath
    quota: str = ""
    #: The value is the sum of the repeated numbers at ``path``.
    summed: bool = False
    #: Paths read when the kept report holds nothing at ``path``, in this order.
    fallbacks: tuple[FieldPath, ...] = ()
    #: Serial prefixes of units that send the value with the opposite sign.
    sign_inverted_on: tuple[str, ...] = ()

    @property
    def paths(self) -> tuple[FieldPath, ...]:
        """``path`` and its fallbacks: the value is at the first the report holds."""
        return (self.path, *self.fallbacks)


@dataclass(frozen=True)
class OpenApiLayout:
    """How the Open API's quota messages are laid out.

    The MQTT quota stream sends ``{"cmdFunc", "cmdId", "param": {...}}``; the keys of
    ``param`` of a command in ``stream_commands`` are quota keys once prefixed with its
    value. Packs: quota/all holds one JSON text per pack under ``pack_prefix + serial``;
    the stream sends them as the list ``pack_list`` of ``pack_command``, each entry naming
    its pack in ``pack_serial`` (base64). ``refused_models`` are the models the API answers
    1006 for, each with its serial prefixes.
    """

    stream_commands: Mapping[tuple[int, int], str] = field(default_factory=dict)
    pack_prefix: str = ""
    pack_command: tuple[int, int] = (0, 0)
    pack_list: str = ""
    pack_serial: str = ""
    refused_models: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
    #: Repeated messages (by path, without positions) whose elements say which they are
    #: in a field of their own (a phase number): kept by that number, not by position,
    #: and merged field by field, so an element a report leaves out or sends in part
    #: keeps what it reported before.
    keyed_lists: Mapping[FieldPath, str] = field(default_factory=dict)
    #: A field of the entry that orders its reports: one lower than the kept report's is
    #: history (an older day of statistics) and does not replace it.
    newest_by: str = ""
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
class ModelEntry:
    """A ``models`` entry: what tells the model (product type codes, serial prefixes,
    commands only it sends), and the data requests its systems are sent."""

    codes: tuple[int, ...]
    prefixes: tuple[str, ...]
    commands: tuple[tuple[int, int], ...]
    requests: tuple[DataRequest, ...]


@dataclass(frozen=True)
class PowerFlow:
    """An energy flow integrated from a power field: ``sign`` * the power at the first of
    ``paths`` the ``message`` (a route name, or OPEN_API_QUOTA with a quota key as its one
    path) holds, where positive; ``complete``: a report leaving it out says 0."""

    flow: str
    message: str
    paths: tuple[FieldPath, ...]
    sign: int
    complete: bool


@dataclass(frozen=True)
class EnergyIntegration:
    """What ``integrated_energy`` lists, and the longest gap between two reports of a
    power that is still integrated (a longer one is not bridged)."""

    flows: tuple[PowerFlow, ...] = ()
    max_gap_seconds: float = 60.0


@dataclass(frozen=True)
class PowerOceanMapping:
    model: DeviceMapping[Field]
    #: Every route, by message name.
    routes: Mapping[str, Route]
    #: Every route, by (model, cmd_func, cmd_id).
    commands: Mapping[tuple[str, int, int], Route]
    #: Commands known to carry nothing the exporter shows, by name; not counted as unknown.
    ignored: Mapping[tuple[int, int], str]
    #: How a system's model is told: by product type code, and by serial prefix.
    product_types: Mapping[int, str]
    serial_prefixes: tuple[tuple[str, str], ...]
    open_api: OpenApiLayout
    energy: EnergyIntegration = EnergyIntegration()
    #: Commands only one model sends, and that model.
    model_commands: Mapping[tuple[int, int], str] = field(default_factory=dict)
    #: The data requests the systems of each model are sent.
    model_requests: Mapping[str, tuple[DataRequest, ...]] = field(default_factory=dict)

    @property
    def channels(self) -> tuple[PowerOceanChannel, ...]:
        return self.model.channels

    def route(self, model: str, cmd_func: int, cmd_id: int) -> Route | None:
        """The route of a command for a system of ``model``: its own, else the default."""
        return self.commands.get((model, cmd_func, cmd_id)) or self.commands.get(
            ("", cmd_func, cmd_id)
        )

    def data_requests(self, model: str) -> tuple[DataRequest, ...]:
        """The data requests a system of ``model`` is sent: those its ``models`` entry
        lists, else every one."""
        return self.model_requests.get(model, DATA_REQUESTS)

    def model_of_serial(self, serial: str) -> str:
        """The model a serial's prefix tells; the default ("") when none does."""
        return next((m for prefix, m in self.serial_prefixes if serial.startswith(prefix)), "")


def load_powerocean_mapping(path: Path | None = None) -> PowerOceanMapping:
    """The PowerOcean mapping at ``path``; the shipped one (the default) is read once."""
    return _read_powerocean_mapping(path) if path else _shipped_powerocean_mapping()


@functools.cache
def _shipped_powerocean_mapping() -> PowerOceanMapping:
    return _read_powerocean_mapping(default_mapping_path("powerocean"))


def _read_powerocean_mapping(path: Path) -> PowerOceanMapping:
    mapping = load_mapping(path, _parse_field)
    models = _each(mapping, "models", _model)
    routes = _each(mapping, "messages", functools.partial(_route, models=models))
    commands: dict[tuple[str, int, int], Route] = {}
    for name, route in routes.items():
        other = commands.setdefault((route.model, *route.command), route)
        if other is not route:
            raise MappingError(f"{path}: messages.{name}: same command as {other.name}")
    _check_channels(path, mapping.channels, routes, models)
    product_types = {code: model for model, told in models.items() for code in told.codes}
    prefixes = tuple((p, model) for model, told in models.items() for p in told.prefixes)
    model_commands = _model_commands(path, models, commands)
    with naming(f"{path}: open_api"):
        open_api = _open_api_layout(mapping.document.get("open_api") or {})
    ignored = dict(_each(mapping, "ignored_commands", _ignored).values())
    with naming(f"{path}: integrated_energy"):
        energy = _energy_integration(path, mapping.document.get("integrated_energy") or {}, routes)
    return PowerOceanMapping(
        mapping,
        routes,
        commands,
        ignored,
        product_types,
        prefixes,
        open_api,
        energy,
        model_commands,
        {model: entry.requests for model, entry in models.items()},
    )


def _model_commands(
    path: Path, models: Mapping[str, ModelEntry], routes: Collection[tuple[str, int, int]]
) -> dict[tuple[int, int], str]:
    """The commands only one model sends, each routed for that model, and the model."""
    told: dict[tuple[int, int], str] = {}
    for model, what in models.items():
        with naming(f"{path}: models.{model}"):
            for command in what.commands:
                if (model, *command) not in routes:
                    raise ValueError(f"{_text(command)} has no message of model {model!r}")
                if told.setdefault(command, model) != model:
                    raise ValueError(f"{_text(command)} tells model {told[command]!r} already")
    return told


def _each(
    mapping: DeviceMapping[Field], section: str, parse: Callable[[str, Any], T]
) -> dict[str, T]:
    """``parse(key, value)`` of each entry of the document's ``section``; an error names it."""
    entries = mapping.document.get(section) or {}
    if not isinstance(entries, dict):
        raise MappingError(f"{mapping.path}: {section}: must be a mapping")
    parsed: dict[str, T] = {}
    for key, value in entries.items():
        with naming(f"{mapping.path}: {section}.{key}"):
            parsed[str(key)] = parse(str(key), value)
    return parsed


def _check_channels(
    path: Path,
    channels: Sequence[PowerOceanChannel],
    routes: Mapping[str, Route],
    models: Mapping[str, ModelEntry],
) -> None:
    """Each channel names fields of its message (or of the message's entries) that fit
    its kind, a metric is labelled by one kind of entry, and the serial prefixes a sign
    is inverted on are those of the channel's model."""
    by_schema = {route.schema: route for route in routes.values()}
    entry_labels: dict[str, str] = {}
    for channel in channels:
        location = channel.location
        with naming(f"{path}: {channel.seed_id}"):
            if location.message in (OPEN_API_QUOTA, INTEGRATED_ENERGY):
                continue
            route = by_schema.get(location.message)
            if route is None:
                raise ValueError(f"message {location.message!r} has no route")
            entry = _entry(route.message_type, route.entries)
            for field_path in location.paths:
                _check_path(entry, field_path, channel.kind, location.summed)
            if entry_labels.setdefault(channel.metric, route.entry_label) != route.entry_label:
                raise ValueError(f"{channel.metric} mixes different entry labels")
            told = models.get(channel.variant)
            foreign = [p for p in location.sign_inverted_on if not told or p not in told.prefixes]
            if foreign:
                raise ValueError(
                    f"'sign_inverted_on' {foreign} are not serial prefixes of model"
                    f" {channel.variant!r}"
                )


def _open_api_layout(spec: Mapping[str, Any]) -> OpenApiLayout:
    stream = spec.get("stream_commands") or {}
    packs = spec.get("pack_stream") or {}
    refused = spec.get("refused_models") or {}
    if not isinstance(refused, dict):
        raise ValueError("'refused_models' must map model names to serial prefixes")
    prefixes = {
        str(name): tuple(list_of(refused, name, str, "serial prefixes")) for name in refused
    }
    return OpenApiLayout(
        stream_commands={_command(k): str(v) for k, v in stream.items()},
        pack_prefix=str(spec.get("pack_prefix", "")),
        pack_command=_command(packs.get("command", "0/0")),
        pack_list=str(packs.get("list", "")),
        pack_serial=str(packs.get("serial", "")),
        refused_models=prefixes,
    )


def _energy_integration(
    path: Path, spec: Mapping[str, Any], routes: Mapping[str, Route]
) -> EnergyIntegration:
    """The ``integrated_energy`` section: ``max_gap_seconds`` and its ``flows``, each a
    ``flow`` name and a ``message`` (a route, or OPEN_API_QUOTA with a quota key as
    ``field``) whose numeric ``field`` (a path, or a list of them, the first the report
    holds counting) holds a power in W, integrated where ``sign`` (1 or -1) times it is
    positive."""
    flows = []
    for index, item in enumerate(spec.get("flows") or []):
        with naming(f"{path}: integrated_energy.flows[{index}]"):
            flows.append(_power_flow(item, routes))
    max_gap = spec.get("max_gap_seconds", EnergyIntegration.max_gap_seconds)
    if not isinstance(max_gap, int | float) or max_gap <= 0:
        raise ValueError("max_gap_seconds must be a positive number")
    return EnergyIntegration(tuple(flows), float(max_gap))


def _power_flow(item: Mapping[str, Any], routes: Mapping[str, Route]) -> PowerFlow:
    sign = item.get("sign", 1)
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    if item["message"] == OPEN_API_QUOTA:
        return PowerFlow(str(item["flow"]), OPEN_API_QUOTA, ((str(item["field"]),),), sign, False)
    route = routes.get(item["message"])
    if route is None or route.entry_label:
        raise ValueError(f"{item['message']!r} is not a message of a system")
    paths = _paths(item["field"])
    for path in paths:
        _check_path(_entry(route.message_type, ""), path, Kind.GAUGE)
    return PowerFlow(str(item["flow"]), route.name, paths, sign, route.complete)


def _text(command: tuple[int, int]) -> str:
    """(96, 7) -> ``"96/7"``."""
    return f"{command[0]}/{command[1]}"


def _command(text: str) -> tuple[int, int]:
    """``"96/7"`` -> (96, 7)."""
    cmd_func, _, cmd_id = str(text).partition("/")
    if not (cmd_func.isdigit() and cmd_id.isdigit()):
        raise ValueError(f"{text!r} is not cmd_func/cmd_id")
    return int(cmd_func), int(cmd_id)


def _model(name: str, spec: Any) -> ModelEntry:
    """A ``models`` entry; ``data_requests`` names the requests its systems are sent."""
    if not isinstance(spec, dict):
        raise ValueError("must be a mapping")
    requests: tuple[DataRequest, ...] = DATA_REQUESTS
    if "data_requests" in spec:
        names = list_of(spec, "data_requests", str, "request names")
        unknown = sorted(set(names) - {request.name for request in DATA_REQUESTS})
        if unknown:
            known = ", ".join(request.name for request in DATA_REQUESTS)
            raise ValueError(f"'data_requests': {unknown} are no requests; there are {known}")
        requests = tuple(request for request in DATA_REQUESTS if request.name in names)
    return ModelEntry(
        tuple(list_of(spec, "product_types", int, "whole numbers")),
        tuple(list_of(spec, "serial_prefixes", str, "texts")),
        tuple(map(_command, list_of(spec, "commands", str, "cmd_func/cmd_id texts"))),
        requests,
    )


def _ignored(command: str, name: Any) -> tuple[tuple[int, int], str]:
    """An ``ignored_commands`` entry: ``"<cmd_func>/<cmd_id>": NAME``."""
    if not isinstance(name, str) or not name:
        raise ValueError("needs a name")
    return _command(command), name


def _parse_field(entry: Mapping[str, Any]) -> Field:
    message, path, quota = entry["message"], entry["field"], entry.get("quota", "")
    if not isinstance(message, str) or not isinstance(quota, str):
        raise ValueError("'message' and 'quota' must be text")
    if message in (OPEN_API_QUOTA, INTEGRATED_ENERGY):
        if not isinstance(path, str) or not path:
            raise ValueError("'field' must be text")
        return Field(message, (path,), quota or path if message == OPEN_API_QUOTA else "")
    summed = entry.get("sum", False)
    if not isinstance(summed, bool):
        raise ValueError("'sum' must be true or false")
    first, *fallbacks = _paths(path)
    inverted = tuple(list_of(entry, "sign_inverted_on", str, "serial prefixes"))
    return Field(message, first, quota, summed, tuple(fallbacks), inverted)


def _paths(field: Any) -> tuple[FieldPath, ...]:
    """A ``field``: a path, or a list of them, the first the report holds counting."""
    paths = field if isinstance(field, list) else [field]
    if not paths or not all(isinstance(path, str) and path for path in paths):
        raise ValueError("'field' must be a path or a list of paths")
    return tuple(map(_steps, paths))


def _steps(path: str) -> FieldPath:
    """``"mpptHeartBeat.0.mpptPv.1.vol"`` -> its steps, positions as numbers."""
    return tuple(int(step) if step.isdigit() else step for step in path.split("."))


def _route(name: str, spec: Any, models: Collection[str]) -> Route:
    """A ``messages`` entry: a route whose schema message, entries and fields exist."""
    if not isinstance(spec, dict):
        raise ValueError("must be a mapping")
    cmd_func, cmd_id = spec.get("cmd_func"), spec.get("cmd_id")
    if not isinstance(cmd_func, int) or not isinstance(cmd_id, int):
        raise ValueError("needs whole-number cmd_func and cmd_id")
    model = spec.get("model", "")
    if model and model not in models:
        raise ValueError(f"model {model!r} is not listed under 'models'")
    schema = str(spec.get("schema", name))
    message_type = getattr(powerocean_pb2, schema, None)
    if message_type is None:
        raise ValueError(f"{schema!r} is not a message of the schema")
    entry = _entry(message_type, spec.get("entries", ""))
    entry_key = tuple(list_of(spec, "entry_key", str, "field names"))
    if bool(entry_key) != bool(spec.get("entry_label")):
        raise ValueError("'entry_label' and 'entry_key' must be given together")
    named = (*entry_key, spec.get("tells_model"), spec.get("newest_by"))
    unknown = [k for k in named if k and k not in entry.fields_by_name]
    if unknown:
        raise ValueError(
            f"'entry_key', 'tells_model' and 'newest_by' need fields of the entry: {unknown}"
        )
    return Route(
        name,
        (cmd_func, cmd_id),
        schema,
        message_type,
        model=model,
        tells_model=spec.get("tells_model", ""),
        entries=spec.get("entries", ""),
        entry_label=spec.get("entry_label", ""),
        entry_key=entry_key,
        entry_names=dict(spec.get("entry_names") or {}),
        keyed_lists=_keyed_lists(entry, spec.get("keyed_lists") or {}),
        newest_by=spec.get("newest_by", ""),
        complete=bool(spec.get("complete", False)),
        lasting=bool(spec.get("lasting", False)),
    )


def _keyed_lists(entry: Descriptor, spec: Any) -> dict[FieldPath, str]:
    """``keyed_lists``: each path of a repeated message (names only) and the whole-number
    field of its elements that says which element it is."""
    if not isinstance(spec, dict):
        raise ValueError("'keyed_lists' must map paths to field names")
    keyed: dict[FieldPath, str] = {}
    for path, key in spec.items():
        steps = tuple(str(path).split("."))
        message: Descriptor | None = entry
        field = None
        for step in steps:
            field = message.fields_by_name.get(step) if message else None
            if field is None:
                raise ValueError(f"keyed_lists: no field {step!r} on the way to {path!r}")
            message = field.message_type
        key_field = message.fields_by_name.get(key) if message else None
        if not (field and field.is_repeated and message and key_field):
            raise ValueError(f"keyed_lists: {path!r} is not a repeated message with {key!r}")
        if key_field.cpp_type not in _WHOLE_NUMBERS or key_field.is_repeated:
            raise ValueError(f"keyed_lists: {key!r} of {path!r} is not a whole number")
        keyed[steps] = str(key)
    return keyed


_WHOLE_NUMBERS = frozenset(
    {
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    }
)


def _entry(message_type: type[Message], entries: str) -> Descriptor:
    """What a message reports on: its repeated message field ``entries``, else itself."""
    descriptor = message_type.DESCRIPTOR
    assert isinstance(descriptor, Descriptor)  # protobuf's C classes are its Python classes
    if not entries:
        return descriptor
    field = descriptor.fields_by_name.get(entries)
    if field is None or field.message_type is None:
        raise ValueError(f"no field {entries!r} holding messages")
    return field.message_type


def _check_path(
    message: Descriptor | None, path: FieldPath, kind: Kind, summed: bool = False
) -> None:
    """``path`` names fields of ``message`` and the messages inside it, each repeated one
    followed by a position, and ends at a scalar: a repeated one for an array or a sum only."""
    steps = iter(path)
    field: FieldDescriptor | None = None
    for step in steps:
        if message is None:
            raise ValueError(f"{step!r} follows a field that is not a message")
        if isinstance(step, int):
            raise ValueError(f"position {step} follows no repeated message")
        field = message.fields_by_name.get(step)
        if field is None:
            raise ValueError(f"no field {step!r} in {message.name}")
        message = field.message_type
        if message is not None and field.is_repeated and not isinstance(next(steps, ""), int):
            raise ValueError(f"a position must follow the repeated message {step!r}")
    if field is None or message is not None or field.is_repeated != (kind is Kind.ARRAY or summed):
        raise ValueError(f"{'.'.join(map(str, path))} does not end at a field of kind {kind}")

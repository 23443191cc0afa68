"""The PowerOcean wire format: MQTT payload -> frames -> reported fields, and back.

One pipeline serves the exporter's ingest and ``ess-exporter decode``: ``decode_payload``
splits a payload into frames, routes each frame by (cmd_func, cmd_id) and turns its
inner message into a ``Report``: the fields the device *reported*, zeros included,
keyed by their path in the message. A field the message leaves out is not in the
report, so whoever keeps the state can tell "not sent" from "sent as 0".
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf import message as _message
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.empty_pb2 import Empty
from google.protobuf.json_format import MessageToDict
from google.protobuf.unknown_fields import UnknownFieldSet

from exporter.powerocean.proto.powerocean_pb2 import EnergyStreamSwitch, Header, HeaderMessage
from exporter.powerocean.schema import FieldPath, PowerOceanMapping, Route, SystemModels

MAX_PAYLOAD_BYTES = 1_000_000

Reason = Literal["too_large", "not_protobuf", "truncated", "empty", "no_serial", "bad_message"]
SkipReason = Literal["blank_header", "no_serial"]
Value = int | float | str | tuple[int | float, ...]

_APP = 32  # address of the app (and of the cloud acting for it); its frames are never XORed
_EMS = 96  # address of the EMS, also the cmd_func of its messages
_DEVICE = 2
_ENERGY_STREAM_SWITCH = 97
_FROM_APP = {"from": "ios"}  # "from" is a Python keyword
_HEADER_TAG = 0x0A  # HeaderMessage.header: field 1, length-delimited
_XOR_TABLES = tuple(bytes(byte ^ key for byte in range(256)) for key in range(256))
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_LENGTH, _WIRE_FIXED32 = 0, 1, 2, 5
_NUMERIC = frozenset(
    {
        FieldDescriptor.TYPE_FLOAT,
        FieldDescriptor.TYPE_DOUBLE,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)
_RAW_DEPTH = 4  # how deep ``raw_fields`` looks into nested messages


class DecodeError(Exception):
    """A payload or inner message that cannot be used; ``reason`` is a short label."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(slots=True)
class Frame:
    """One header of a payload, with its pdata already XOR-decoded."""

    serial: str
    cmd_func: int
    cmd_id: int
    header: Header
    pdata: bytes


@dataclass(slots=True)
class SplitResult:
    """Usable frames of a payload, plus one reason per header that was skipped."""

    frames: list[Frame]
    skipped: list[SkipReason]


class Report:
    """What one message (or one battery pack entry) reported.

    ``fields`` holds every field present on the wire, zeros included, by path
    (``("pcsAPhase", "volt")``, ``("mpptHeartBeat", 0, "mpptPv", 1, "pwr")``).
    ``lists`` names the repeated messages the report sent whole: entries kept from
    earlier reports below those paths are replaced, not merged. ``unknown`` holds the
    field numbers the schema does not name (last step ``"#<number>"``), for ``decode``.

    A report of a parsed message (``Report.of``) keeps the message and flattens it when
    first read. Such reports are merged message by message (``updated_by``), so a kind
    that arrives every 2 s is flattened once per scrape, not once per frame.
    """

    __slots__ = ("_flat", "_mergeable", "message")

    def __init__(
        self,
        fields: dict[FieldPath, Value],
        lists: tuple[FieldPath, ...] = (),
        unknown: dict[FieldPath, Any] | None = None,
    ) -> None:
        self._flat: _Flat | None = (fields, lists, {} if unknown is None else unknown)
        self.message: _message.Message | None = None
        self._mergeable: bool | None = False

    @classmethod
    def of(cls, message: _message.Message, *, mergeable: bool | None = None) -> Report:
        """What ``message`` carried on the wire, flattened to paths when first read;
        ``mergeable`` when it is known already."""
        report = cls.__new__(cls)
        report._flat = None
        report.message = message
        report._mergeable = mergeable
        return report

    @property
    def fields(self) -> dict[FieldPath, Value]:
        return self._flattened()[0]

    @property
    def lists(self) -> tuple[FieldPath, ...]:
        return self._flattened()[1]

    @property
    def unknown(self) -> dict[FieldPath, Any]:
        return self._flattened()[2]

    @property
    def mergeable(self) -> bool:
        """A message that can be merged as a message: no field in it came with another
        wire type than the schema's (such values are kept by path only)."""
        mergeable = self._mergeable
        if mergeable is None:
            mergeable = self._mergeable = _is_mergeable(self.message)
        return mergeable

    def key(self, name: str) -> Value | None:
        """The value of top-level field ``name`` as ``fields`` holds it, or a false value
        when it was not sent: what names a pack, or tells a model."""
        message = self.message
        if message is None or not self.mergeable:
            return self.fields.get((name,))
        value = getattr(message, name)
        return _text(value) if isinstance(value, bytes) else value

    def updated_by(self, newer: Report) -> Report:
        """This report with ``newer`` over it: a field ``newer`` carries replaces the kept
        value, a field it leaves out keeps it, a repeated field it sends replaces the
        kept one whole."""
        kept, message = self.message, newer.message
        if (
            kept is not None
            and message is not None
            and type(kept) is type(message)
            and self.mergeable
            and newer.mergeable
        ):
            return Report.of(_merged(kept, message), mergeable=True)
        if kept is None and not self.fields:
            return newer
        lists = newer.lists
        if lists:
            starts = {prefix[0] for prefix in lists}
            fields = {
                path: value
                for path, value in self.fields.items()
                if path[0] not in starts or not any(path[: len(p)] == p for p in lists)
            }
        else:
            fields = dict(self.fields)
        fields.update(newer.fields)
        return Report(fields)

    def _flattened(self) -> _Flat:
        flat = self._flat
        if flat is None:
            fields: dict[FieldPath, Value] = {}
            lists: list[FieldPath] = []
            unknown: dict[FieldPath, Any] = {}
            _flatten(self.message, _root(self.message.DESCRIPTOR), fields, lists, unknown)
            flat = self._flat = (fields, tuple(lists), unknown)
        return flat


#: A report's fields, lists and unknown fields.
_Flat = tuple[dict[FieldPath, Value], tuple[FieldPath, ...], dict[FieldPath, Any]]


@dataclass(slots=True)
class DecodedFrame:
    """A frame with what its route made of it.

    ``route`` is None for a command the schema does not know. ``reports`` holds one
    ``(entry, Report)`` per entry for a route with entries (battery packs, modules ...),
    else one ``("", Report)``. ``error`` is set when the inner message could not be parsed.
    """

    frame: Frame
    route: Route | None
    reports: list[tuple[str, Report]]
    error: Reason | None = None


def xor(data: bytes, key: int) -> bytes:
    """XOR every byte with ``key & 0xFF``: the frame cipher, its own inverse."""
    return data.translate(_XOR_TABLES[key & 0xFF])


def decode_payload(
    payload: bytes,
    mapping: PowerOceanMapping,
    models: SystemModels,
    topic: str | None = None,
    *,
    need_serial: bool = True,
) -> tuple[list[DecodedFrame], list[SkipReason]]:
    """Split ``payload`` and decode every frame; raises DecodeError when no frame is left.

    Each frame is routed for its system's model, which ``models`` learns on the way from
    header product ids and the module inventory (a get-all sends the inventory first).
    """
    split = split_payload(payload, topic, need_serial=need_serial)
    decoded = []
    for frame in split.frames:
        if frame.header.product_id:
            models.learn(frame.serial, frame.header.product_id >> 8)
        route = mapping.route(models.of(frame.serial), frame.cmd_func, frame.cmd_id)
        decoded.append(decode_frame(frame, route))
        if route is not None and route.tells_model:
            for _, report in decoded[-1].reports:
                product_type = report.key(route.tells_model)
                if isinstance(product_type, int) and product_type:
                    models.learn(frame.serial, product_type)
    return decoded, split.skipped


def decode_frame(frame: Frame, route: Route | None) -> DecodedFrame:
    """Parse a frame's inner message with its route (None: a command nobody knows)."""
    if route is None:
        return DecodedFrame(frame, None, [])
    message = route.message_type()
    try:
        message.ParseFromString(frame.pdata)
    except _message.DecodeError:
        return DecodedFrame(frame, route, [], "bad_message")
    if not route.entry_label:
        return DecodedFrame(frame, route, [("", Report.of(message))])
    entries = []
    for item in getattr(message, route.entries) if route.entries else [message]:
        report = Report.of(item)
        name = route.entry_name(report.key)
        if name:  # an entry that names nothing is an empty placeholder
            entries.append((name, report))
    return DecodedFrame(frame, route, entries)


def split_payload(payload: bytes, topic: str | None, *, need_serial: bool = True) -> SplitResult:
    """Split one MQTT payload (a HeaderMessage) into frames.

    The serial of a frame is the header's module_sn, else its device_sn, else the
    last non-empty segment of ``topic``. Headers without any known field
    ("blank_header") or, when ``need_serial``, without a serial ("no_serial") are
    skipped and listed in ``SplitResult.skipped``. DecodeError is raised only when no frame is left:
    "too_large", "truncated", "not_protobuf" (JSON, garbage, all headers blank),
    "empty" (zero bytes) or "no_serial". Nothing else is raised.
    """
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DecodeError("not_protobuf")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError("too_large")
    payload = bytes(payload)
    envelope = HeaderMessage()
    try:
        envelope.ParseFromString(payload)
    except _message.DecodeError:
        raise DecodeError("truncated" if _looks_truncated(payload) else "not_protobuf") from None
    if not envelope.header:
        raise DecodeError("empty" if not payload else "not_protobuf")

    topic_serial = serial_from_topic(topic)
    frames: list[Frame] = []
    skipped: list[SkipReason] = []
    for header in envelope.header:
        frame = _frame(header, topic_serial, need_serial)
        if isinstance(frame, Frame):
            frames.append(frame)
        else:
            skipped.append(frame)
    if not frames:
        raise DecodeError("no_serial" if "no_serial" in skipped else "not_protobuf")
    return SplitResult(frames, skipped)


def _frame(header: Header, topic_serial: str, need_serial: bool) -> Frame | SkipReason:
    """The frame of one header, or why it is skipped."""
    serial = header.module_sn or header.device_sn
    if not serial:  # a header naming a serial is not blank: ListFields() only when not
        if not header.ListFields():
            return "blank_header"
        serial = topic_serial
        if not serial and need_serial:
            return "no_serial"
    pdata = header.pdata
    if header.enc_type == 1 and header.src != _APP:
        pdata = xor(pdata, header.seq)
    return Frame(serial, header.cmd_func, header.cmd_id, header, pdata)


@functools.lru_cache(maxsize=1024)
def serial_from_topic(topic: str | None) -> str:
    """The last non-empty segment of an MQTT topic (``/app/device/property/<serial>``);
    kept for the few topics a broker sends on."""
    if not topic:
        return ""
    return next((segment for segment in reversed(topic.split("/")) if segment), "")


def _root(descriptor: Descriptor) -> _Node:
    """The node of a top-level message type."""
    return _ROOTS.get(descriptor) or _ROOTS.setdefault(descriptor, _Node(()))


def _merged(kept: _message.Message, newer: _message.Message) -> _message.Message:
    """A new message: ``kept`` with ``newer`` merged over it, repeated fields replaced.

    Field numbers the schema does not name are dropped: protobuf's merge would append
    them on every report, and only ``decode`` shows them, frame by frame.
    """
    merged = type(kept)()
    merged.CopyFrom(kept)
    _clear_resent(merged, newer)
    merged.MergeFrom(newer)
    merged.DiscardUnknownFields()
    return merged


def _clear_resent(kept: _message.Message, newer: _message.Message) -> None:
    """Clear the repeated fields of ``kept`` that ``newer`` sends (protobuf's merge would
    append to them), in ``kept`` and in the single messages below it."""
    shape = _message_shape(kept.DESCRIPTOR)
    for name in shape.repeated:
        if getattr(newer, name):
            kept.ClearField(name)
    for name, _ in shape.holding_lists:
        if newer.HasField(name) and kept.HasField(name):
            _clear_resent(getattr(kept, name), getattr(newer, name))


def _is_mergeable(message: _message.Message, shape: _MessageShape | None = None) -> bool:
    """No value of another wire type in ``message`` or below it."""
    if shape is None:
        shape = _message_shape(message.DESCRIPTOR)
    unknowns = UnknownFieldSet(message)
    if len(unknowns) and any(_other_wire_type_value(shape.by_number, i) for i in unknowns):
        return False
    for name, below in shape.single:
        if message.HasField(name) and not _is_mergeable(getattr(message, name), below):
            return False
    for name, below in shape.lists:
        for item in getattr(message, name):
            if not _is_mergeable(item, below):
                return False
    return True


@dataclass(frozen=True, slots=True)
class _MessageShape:
    """The fields of a message type that hold messages (with their type's shape), or repeat."""

    by_number: Mapping[int, FieldDescriptor]
    single: tuple[tuple[str, _MessageShape], ...]  # single messages
    lists: tuple[tuple[str, _MessageShape], ...]  # repeated messages
    repeated: tuple[str, ...]  # every repeated field
    #: Single messages with a repeated field somewhere below.
    holding_lists: tuple[tuple[str, _MessageShape], ...]


@functools.cache
def _message_shape(descriptor: Descriptor) -> _MessageShape:
    messages = [
        (f, (f.name, _message_shape(f.message_type)))
        for f in descriptor.fields
        if f.message_type is not None
    ]
    single = tuple(named for f, named in messages if not f.is_repeated)
    return _MessageShape(
        descriptor.fields_by_number,
        single,
        tuple(named for f, named in messages if f.is_repeated),
        tuple(f.name for f in descriptor.fields if f.is_repeated),
        tuple(named for named in single if named[1].repeated or named[1].holding_lists),
    )


_NUMBER, _TEXT, _LIST, _MESSAGE, _MESSAGES = range(5)
#: Entries of a repeated message whose paths are kept; those past it get theirs made anew,
#: so that no payload can grow what is kept without bound.
_KEPT_ENTRIES = 64


class _Node:
    """A path in a message, and the paths of the fields below it, made once: a report's
    paths are then the same tuples every time, built and hashed once."""

    __slots__ = ("_entries", "fields", "numbers", "path")

    def __init__(self, path: FieldPath) -> None:
        self.path = path
        #: The node of each field below this one, and how its value is flattened.
        self.fields: dict[FieldDescriptor, tuple[_Node, int]] = {}
        #: The path of each number field below this one (most fields): looked up first.
        self.numbers: dict[FieldDescriptor, FieldPath] = {}
        self._entries: dict[int, _Node] = {}

    def field(self, descriptor: FieldDescriptor) -> tuple[_Node, int]:
        """The node of a field below this one, and how its value is flattened."""
        found = self.fields.get(descriptor)
        if found is None:
            found = self.fields[descriptor] = (
                _Node((*self.path, descriptor.name)),
                _shape(descriptor),
            )
            if found[1] == _NUMBER:
                self.numbers[descriptor] = found[0].path
        return found

    def entry(self, index: int) -> _Node:
        """The node of the ``index``-th message of this repeated field."""
        found = self._entries.get(index)
        if found is None:
            found = _Node((*self.path, index))
            if index < _KEPT_ENTRIES:
                self._entries[index] = found
        return found


#: The node of each top-level message type.
_ROOTS: dict[Descriptor, _Node] = {}


def _shape(descriptor: FieldDescriptor) -> int:
    """How a field's value is flattened."""
    if descriptor.message_type is not None:
        return _MESSAGES if descriptor.is_repeated else _MESSAGE
    if descriptor.is_repeated:
        return _LIST
    return _TEXT if descriptor.type == FieldDescriptor.TYPE_BYTES else _NUMBER


def _flatten(
    message: _message.Message,
    node: _Node,
    fields: dict[FieldPath, Value],
    lists: list[FieldPath],
    unknown: dict[FieldPath, Any],
) -> None:
    numbers = node.numbers
    for descriptor, value in message.ListFields():
        path = numbers.get(descriptor)
        if path is not None:
            fields[path] = value
            continue
        below, shape = node.field(descriptor)
        if shape == _NUMBER:
            fields[below.path] = value
        elif shape == _MESSAGE:
            _flatten(value, below, fields, lists, unknown)
        elif shape == _MESSAGES:
            lists.append(below.path)
            for index, item in enumerate(value):
                _flatten(item, below.entry(index), fields, lists, unknown)
        elif shape == _LIST:
            fields[below.path] = tuple(value)
        else:
            fields[below.path] = _text(value)
    unknowns = UnknownFieldSet(message)
    if len(unknowns):
        _keep_unknown(message, unknowns, node.path, fields, unknown)


def _text(value: bytes) -> str:
    """A bytes field as text: firmware pads serials with NULs and spaces."""
    return value.decode("utf-8", "replace").strip("\x00 ")


def _keep_unknown(
    message: _message.Message,
    unknowns: UnknownFieldSet,
    prefix: FieldPath,
    fields: dict[FieldPath, Value],
    unknown: dict[FieldPath, Any],
) -> None:
    """Fields the schema does not know, or that came with another wire type."""
    by_number = message.DESCRIPTOR.fields_by_number
    for item in unknowns:
        found = _other_wire_type_value(by_number, item)
        if found is None:
            unknown[(*prefix, f"#{item.field_number}")] = _raw_value(item.wire_type, item.data)
            continue
        descriptor, number = found
        path = (*prefix, descriptor.name)
        if descriptor.is_repeated:
            previous = fields.get(path, ())
            fields[path] = (*previous, number) if isinstance(previous, tuple) else (number,)
        else:
            fields[path] = number


def _other_wire_type_value(
    by_number: Mapping[int, FieldDescriptor], item: Any
) -> tuple[FieldDescriptor, int | float] | None:
    """A number field of the schema that came with another wire type, and its value.

    Firmware versions disagree on float versus integer for some fields; such a value is
    kept all the same.
    """
    descriptor = by_number.get(item.field_number)
    if descriptor is None or descriptor.type not in _NUMERIC:
        return None
    number = _number_of_other_wire_type(item.wire_type, item.data)
    return None if number is None else (descriptor, number)


def _number_of_other_wire_type(wire_type: int, data: Any) -> int | float | None:
    if wire_type == _WIRE_VARINT:
        return data - (1 << 64) if data >= 1 << 63 else data
    if wire_type == _WIRE_FIXED32:
        return struct.unpack("<f", data.to_bytes(4, "little"))[0]
    if wire_type == _WIRE_FIXED64:
        return struct.unpack("<d", data.to_bytes(8, "little"))[0]
    return None


def raw_fields(data: bytes, depth: int = 0) -> dict[str, Any] | None:
    """Any protobuf message by field number, as ``protoc --decode_raw`` would show it.

    Used by ``decode`` for commands and fields the schema does not know, so that a
    capture from new firmware can be read and reported. None when ``data`` is not a
    message. A number seen several times becomes a list.
    """
    message = Empty()
    try:
        message.ParseFromString(data)
    except _message.DecodeError:
        return None
    out: dict[str, Any] = {}
    for item in UnknownFieldSet(message):
        value = _raw_value(item.wire_type, item.data, depth)
        key = str(item.field_number)
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


def _raw_value(wire_type: int, data: Any, depth: int = 0) -> Any:
    if wire_type == _WIRE_LENGTH:
        return _raw_bytes(data, depth)
    number = _number_of_other_wire_type(wire_type, data)
    if isinstance(number, float):
        return _short_float(number)
    return number


def _raw_bytes(data: bytes, depth: int) -> Any:
    """Length-delimited data: a nested message, else text, else hex."""
    if not data:
        return ""
    if depth < _RAW_DEPTH:
        nested = raw_fields(data, depth + 1)
        if nested and "0" not in nested:  # field number 0 is not valid: not a message
            return nested
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex()
    return text if text.isprintable() else data.hex()


def _short_float(value: float) -> float | str:
    """A float32 shown with the digits it has (237.35, not 237.34962463378906)."""
    if not math.isfinite(value):
        return str(value)
    return float(f"{value:.7g}")


def describe(
    frames: list[DecodedFrame], skipped: list[SkipReason], names: Mapping[tuple[int, int], str]
) -> dict[str, Any]:
    """Decoded frames as JSON for people: every frame named, every field present shown.

    ``names`` names the commands the schema leaves undecoded; their content, and any
    field number the schema does not know, is shown raw by number.
    """
    out = []
    for decoded in frames:
        frame = decoded.frame
        command = (frame.cmd_func, frame.cmd_id)
        header = MessageToDict(frame.header, preserving_proto_field_name=True)
        header.pop("pdata", None)
        entry: dict[str, Any] = {
            "command": f"{frame.cmd_func}/{frame.cmd_id}",
            "message": decoded.route.name if decoded.route else names.get(command, "unknown"),
            "serial": frame.serial,
            "header": header,
            "pdata_bytes": len(frame.pdata),
        }
        if decoded.error:
            entry["error"] = decoded.error
        if decoded.route is None:
            entry["raw"] = raw_fields(frame.pdata) if frame.pdata else {}
        elif decoded.route.entry_label:
            entry["entries"] = {
                f"{decoded.route.entry_label}={name}": _report_json(report)
                for name, report in decoded.reports
            }
        elif decoded.reports:
            entry.update(_report_json(decoded.reports[0][1]))
        out.append(entry)
    return {"frames": out, "skipped": list(skipped)}


def _report_json(report: Report) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "fields": {_dotted(path): _json_value(value) for path, value in report.fields.items()}
    }
    if report.unknown:
        shown["unknown_fields"] = {_dotted(path): value for path, value in report.unknown.items()}
    return shown


def _dotted(path: FieldPath) -> str:
    return ".".join(map(str, path))


def _json_value(value: Value) -> Any:
    if isinstance(value, float):
        return _short_float(value)
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return value


def varint(value: int) -> bytes:
    """``value`` as a protobuf varint (a negative one as its 64-bit two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def build_payload(
    serial: str,
    messages: list[tuple[int, int, _message.Message]],
    *,
    xor_seq: int | None = None,
) -> bytes:
    """Build a device push: one header per ``(cmd_func, cmd_id, message)``.

    With ``xor_seq`` the headers carry ``seq=xor_seq, enc_type=1`` and every pdata
    is XOR-encoded with ``xor_seq & 0xFF``; ``xor_seq`` must fit in an int32.
    """
    envelope = HeaderMessage()
    for cmd_func, cmd_id, inner in messages:
        header = envelope.header.add(
            src=_DEVICE, dest=_APP, cmd_func=cmd_func, cmd_id=cmd_id, module_sn=serial
        )
        pdata = inner.SerializeToString()
        if xor_seq is not None:
            header.enc_type = 1
            header.seq = xor_seq
            pdata = xor(pdata, xor_seq)
        header.pdata = pdata
    return envelope.SerializeToString()


def build_get_all_request(seq_ms: int) -> bytes:
    """Ask the device for a full state dump (sent on ``.../thing/property/get``)."""
    header = Header(src=_APP, dest=_APP, seq=_seq(seq_ms), **_FROM_APP)
    return HeaderMessage(header=[header]).SerializeToString()


def build_energy_stream_keepalive(seq_ms: int) -> bytes:
    """Keep the energy stream (96/33) flowing (sent on ``.../thing/property/set``).

    It only asks for data and changes no setting of the system.
    """
    header = Header(
        pdata=EnergyStreamSwitch(ems_open_energy_stream=True).SerializeToString(),
        src=_APP,
        dest=_EMS,
        d_src=1,
        d_dest=1,
        cmd_func=_EMS,
        cmd_id=_ENERGY_STREAM_SWITCH,
        need_ack=1,
        version=3,
        payload_ver=1,
        seq=_seq(seq_ms),
        **_FROM_APP,
    )
    return HeaderMessage(header=[header]).SerializeToString()


def _seq(seq_ms: int) -> int:
    """seq is an int32 on the wire: keep the low 31 bits of a millisecond clock."""
    return seq_ms & 0x7FFFFFFF


def _looks_truncated(payload: bytes) -> bool:
    """True when the top level is a run of headers whose last one is cut off."""
    pos, end = 0, len(payload)
    while pos < end:
        if payload[pos] != _HEADER_TAG:
            return False
        length, pos = _read_varint(payload, pos + 1)
        if length is None:
            return pos >= end
        pos += length
    return pos > end


def _read_varint(data: bytes, pos: int) -> tuple[int | None, int]:
    """Return (value, next position), or (None, position) for a cut or overlong varint."""
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return None, pos

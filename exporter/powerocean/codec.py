"""A frame's inner message -> the fields it reported, decoded once, at ingest.

A frame's route names the schema message its pdata is parsed with (``channels.py``). The
message becomes a ``Report``: every field present on the wire, zeros included, by its path
in the message. A field the message leaves out is not in the report, so whoever keeps the
state can tell "not sent" from "sent as 0". Firmware versions disagree on float versus
integer for some fields: a number sent with another wire type than the schema's is kept
all the same. An element of a keyed list (``Route.keyed_lists``) is kept at the number it
names (0 when it names none), not at its position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from google.protobuf import message as _message
from google.protobuf.descriptor import FieldDescriptor

from exporter.powerocean.channels import FieldPath, Route
from exporter.powerocean.wire import Frame, number_of_wire_type, unknown_fields

Value = int | float | str | tuple[int | float, ...]
#: A field as protobuf hands over one the schema does not name: wire type and data.
RawField = tuple[int, int | bytes]

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


@dataclass(frozen=True, slots=True)
class Report:
    """What one message (or one entry of it: a battery pack, a component ...) reported.

    ``fields`` by path (``("pcsAPhase", "volt")``, ``("mpptHeartBeat", 0, "mpptPv", 1,
    "pwr")``): repeated numbers as a tuple, texts with the padding stripped. ``lists``
    names the repeated messages the report sent whole (the cache replaces what it kept
    below them). ``unknown`` holds the field numbers the schema does not name (last step
    ``"#<number>"``), raw, for ``decode``.
    """

    fields: dict[FieldPath, Value]
    lists: list[FieldPath] = field(default_factory=list)
    unknown: dict[FieldPath, RawField] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A frame with what its route (None: a command the schema does not know) made of it:
    one ``(entry, Report)`` per entry for a route with entries, else one ``("", Report)``;
    or the ``error`` that its inner message could not be parsed."""

    frame: Frame
    route: Route | None
    reports: list[tuple[str, Report]]
    error: Literal["bad_message"] | None = None


def decode_frame(frame: Frame, route: Route | None) -> DecodedFrame:
    """Parse a frame's inner message with its route (None: a command nobody knows)."""
    if route is None:
        return DecodedFrame(frame, None, [])
    message = route.message_type()
    try:
        message.ParseFromString(frame.pdata)
    except _message.DecodeError:
        return DecodedFrame(frame, route, [], "bad_message")
    keyed = route.keyed_lists
    if not route.entry_label:
        return DecodedFrame(frame, route, [("", decode_message(message, keyed))])
    entries = []
    for item in getattr(message, route.entries) if route.entries else [message]:
        report = decode_message(item, keyed)
        name = route.entry_name(report.fields)
        if name:  # an entry that names nothing is an empty placeholder
            entries.append((name, report))
    return DecodedFrame(frame, route, entries)


_NOT_KEYED: Mapping[FieldPath, str] = MappingProxyType({})


def decode_message(
    message: _message.Message, keyed: Mapping[FieldPath, str] = _NOT_KEYED
) -> Report:
    """The fields ``message`` carried on the wire; ``keyed``: its keyed lists."""
    report = Report({})
    _flatten(message, (), report, keyed)
    return report


def _flatten(
    message: _message.Message, prefix: FieldPath, report: Report, keyed: Mapping[FieldPath, str]
) -> None:
    """Adds the fields of ``message``, at ``prefix`` in the whole message, to ``report``."""
    fields = report.fields
    for descriptor, value in message.ListFields():
        path = (*prefix, descriptor.name)
        if descriptor.message_type is None:
            if descriptor.is_repeated:
                fields[path] = tuple(value)
            elif descriptor.type == FieldDescriptor.TYPE_BYTES:
                fields[path] = _text(value)
            else:
                fields[path] = value
        elif not descriptor.is_repeated:
            _flatten(value, path, report, keyed)
        else:  # a keyed list is named by its path without positions
            names = tuple(step for step in path if isinstance(step, str)) if keyed else ()
            key = keyed.get(names)
            if key is None:
                report.lists.append(path)
            for index, item in enumerate(value):  # keyed: a placeholder naming none at 0
                _flatten(item, (*path, index if key is None else getattr(item, key)), report, keyed)
    unknowns = unknown_fields(message)
    if unknowns:
        _keep_unknown(message, unknowns, prefix, report)


def _text(value: bytes) -> str:
    """A bytes field as text: firmware pads serials with NULs and spaces."""
    return value.decode("utf-8", "replace").strip("\x00 ")


def _keep_unknown(
    message: _message.Message, unknowns: list[Any], prefix: FieldPath, report: Report
) -> None:
    """Fields the schema does not name go to the report's ``unknown``; a number field of
    the schema sent with another wire type goes to its ``fields`` all the same."""
    fields = report.fields
    by_number = message.DESCRIPTOR.fields_by_number
    for item in unknowns:
        named = by_number.get(item.field_number)
        number = None
        if named is not None and named.type in _NUMERIC:
            number = number_of_wire_type(item.wire_type, item.data)
        if named is None or number is None:
            report.unknown[(*prefix, f"#{item.field_number}")] = (item.wire_type, item.data)
            continue
        path = (*prefix, named.name)
        if named.is_repeated:
            previous = fields.get(path, ())
            fields[path] = (*previous, number) if isinstance(previous, tuple) else (number,)
        else:
            fields[path] = number

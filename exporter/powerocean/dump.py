"""Decoded frames as JSON for people: what ``ess-exporter decode`` prints.

Every frame is named and every field present is shown; commands and field numbers the
schema does not know are shown raw, by number, so that a capture from new firmware can be
read and reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import message as _message
from google.protobuf.empty_pb2 import Empty
from google.protobuf.json_format import MessageToDict

from exporter.powerocean.channels import FieldPath, Route
from exporter.powerocean.codec import DecodedFrame, Report, Value
from exporter.powerocean.wire import WIRE_LENGTH, SkipReason, number_of_wire_type, unknown_fields

_RAW_DEPTH = 4  # how deep ``raw_fields`` looks into nested messages


def describe(
    frames: list[DecodedFrame], skipped: list[SkipReason], names: Mapping[tuple[int, int], str]
) -> dict[str, Any]:
    """Decoded frames as JSON; ``names`` names the commands the schema leaves undecoded."""
    out = []
    for decoded in frames:
        frame = decoded.frame
        unnamed = names.get((frame.cmd_func, frame.cmd_id), "unknown")
        header = MessageToDict(frame.header, preserving_proto_field_name=True)
        header.pop("pdata", None)
        entry: dict[str, Any] = {
            "command": f"{frame.cmd_func}/{frame.cmd_id}",
            "message": decoded.route.name if decoded.route else unnamed,
            "serial": frame.serial,
            "header": header,
            "pdata_bytes": len(frame.pdata),
        }
        if decoded.error:
            entry["error"] = decoded.error
        if decoded.route is None:
            entry["raw"] = raw_fields(frame.pdata)
        elif decoded.route.entry_label:
            entry["entries"] = {
                f"{decoded.route.entry_label}={name}": _report_json(report)
                for name, report in decoded.reports
            }
            around = _around_entries(decoded.route, frame.pdata)
            if around:
                entry["unknown_fields"] = around
        elif decoded.reports:
            entry.update(_report_json(decoded.reports[0][1]))
        out.append(entry)
    return {"frames": out, "skipped": list(skipped)}


def raw_fields(data: bytes, depth: int = 0) -> dict[str, Any] | None:
    """Any protobuf message by field number, as ``protoc --decode_raw`` would show it.

    None when ``data`` is not a message. A number seen several times becomes a list.
    """
    message = Empty()
    try:
        message.ParseFromString(data)
    except _message.DecodeError:
        return None
    seen: dict[str, list[Any]] = {}
    for item in unknown_fields(message):
        value = _raw_value(item.wire_type, item.data, depth)
        seen.setdefault(str(item.field_number), []).append(value)
    return {number: values[0] if len(values) == 1 else values for number, values in seen.items()}


def _raw_value(wire_type: int, data: int | bytes, depth: int = 0) -> Any:
    """A field protobuf hands over raw: a number, or length-delimited data shown as a
    nested message, else text, else hex."""
    if wire_type != WIRE_LENGTH or not isinstance(data, bytes):
        return _json_value(number_of_wire_type(wire_type, data))
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


def _around_entries(route: Route, pdata: bytes) -> dict[str, Any]:
    """The fields of a message of entries that are not its entries and that the schema
    does not name (254/46's 1 and 20 around its module), raw."""
    if not route.entries:  # the message is the entry: its report has them
        return {}
    around = unknown_fields(route.message_type.FromString(pdata))
    return {f"#{field.field_number}": _raw_value(field.wire_type, field.data) for field in around}


def _report_json(report: Report) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "fields": {_dotted(path): _json_value(value) for path, value in report.fields.items()}
    }
    if report.unknown:
        shown["unknown_fields"] = {
            _dotted(path): _raw_value(*raw) for path, raw in report.unknown.items()
        }
    return shown


def _dotted(path: FieldPath) -> str:
    return ".".join(map(str, path))


def _json_value(value: Value | None) -> Any:
    """A float32 shown with the digits it has (237.35, not 237.34962463378906)."""
    if isinstance(value, float):
        return float(f"{value:.7g}") if math.isfinite(value) else str(value)
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return value

"""One payload as JSON: its headers and the messages they carry (``ess-exporter decode``)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict

from exporter.powerocean.device import PowerOceanMapping
from exporter.powerocean.envelope import DecodeError, parse_message, split_payload


def dump_payload(
    payload: bytes, mapping: PowerOceanMapping, topic: str | None = None
) -> dict[str, Any]:
    """Decode ``payload``; raises DecodeError when nothing in it is usable."""
    split = split_payload(payload, topic or "")
    frames = []
    for frame in split.frames:
        header = MessageToDict(frame.header, preserving_proto_field_name=True)
        header.pop("pdata", None)
        entry: dict[str, Any] = {
            "serial": frame.serial,
            "header": header,
            "pdata_bytes": len(frame.pdata),
        }
        route = mapping.routes.get((frame.cmd_func, frame.cmd_id))
        if route is None:
            entry["message"] = None
        else:
            entry["message"] = route.name
            try:
                message = parse_message(route.message_type, frame.pdata)
                entry["decoded"] = MessageToDict(message, preserving_proto_field_name=True)
            except DecodeError as exc:
                entry["error"] = exc.reason
        frames.append(entry)
    return {"frames": frames, "skipped": list(split.skipped)}

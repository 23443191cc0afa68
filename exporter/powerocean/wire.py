"""The PowerOcean wire: an MQTT payload's envelope of headers, the frames in it, and the
three data requests the exporter publishes.

A payload is a ``HeaderMessage``: one header per frame, each naming its command
(cmd_func, cmd_id), its system and its inner message (``pdata``, XORed by the device).
What the inner message says is the codec's job (``codec.py``).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf import message as _message
from google.protobuf.unknown_fields import UnknownFieldSet

from exporter.powerocean.proto.powerocean_pb2 import EnergyStreamSwitch, Header, HeaderMessage

MAX_PAYLOAD_BYTES = 1_000_000

Reason = Literal["too_large", "not_protobuf", "truncated", "empty", "no_serial"]
SkipReason = Literal["blank_header", "no_serial"]

#: src/dest of the app (and of the cloud acting for it); its frames are never XORed.
APP = 32
#: src/dest of a device pushing its state.
DEVICE = 2
EMS = 96  # src/dest of the EMS, also the cmd_func of its messages
_ENERGY_STREAM_SWITCH = 97
#: The app a request says it comes from (``from`` is a Python keyword, so set it apart).
_FROM_APP = "ios"
#: The app the JSON ``latestQuotas`` request says it comes from, as every peer sends it.
_FROM_APP_JSON = "Android"
_HEADER_TAG = 0x0A  # HeaderMessage.header: field 1, length-delimited
_XOR_TABLES = tuple(bytes(byte ^ key for byte in range(256)) for key in range(256))

#: Protobuf wire types.
WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH, WIRE_FIXED32 = 0, 1, 2, 5


class DecodeError(Exception):
    """A payload or inner message that cannot be used; ``reason`` is a short label."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True, slots=True)
class Frame:
    """One header of a payload, with its pdata already XOR-decoded."""

    serial: str
    cmd_func: int
    cmd_id: int
    header: Header
    pdata: bytes


@dataclass(frozen=True, slots=True)
class SplitPayload:
    """Usable frames of a payload, plus one reason per header that was skipped."""

    frames: list[Frame]
    skipped: list[SkipReason]


def xor(data: bytes, key: int) -> bytes:
    """XOR every byte with ``key & 0xFF``: the frame cipher, its own inverse."""
    return data.translate(_XOR_TABLES[key & 0xFF])


def split_payload(payload: bytes, topic: str | None, *, need_serial: bool = True) -> SplitPayload:
    """Split one MQTT payload (a HeaderMessage) into frames.

    A frame's serial is the header's module_sn, else its device_sn, else the one ``topic``
    names. Headers without any known field ("blank_header") or, when ``need_serial``,
    without a serial ("no_serial") are skipped. Only DecodeError is raised, and only when
    no frame is left: "too_large", "truncated", "not_protobuf" (JSON, garbage, all headers
    blank), "empty" (0 bytes) or "no_serial".
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
    split = SplitPayload([], [])
    for header in envelope.header:
        serial = header.module_sn or header.device_sn
        # a header naming a serial is not blank: ListFields() only when not
        if not serial and not header.ListFields():
            split.skipped.append("blank_header")
            continue
        serial = serial or topic_serial
        if not serial and need_serial:
            split.skipped.append("no_serial")
            continue
        pdata = header.pdata
        if header.enc_type == 1 and header.src != APP:
            pdata = xor(pdata, header.seq)
        split.frames.append(Frame(serial, header.cmd_func, header.cmd_id, header, pdata))
    if not split.frames:
        raise DecodeError("no_serial" if "no_serial" in split.skipped else "not_protobuf")
    return split


def serial_from_topic(topic: str | None) -> str:
    """The serial an MQTT topic names: the segment before ``thing`` in an answer to a request
    (``/app/<user>/<serial>/thing/property/get_reply``), else the last non-empty segment
    (``/app/device/property/<serial>``)."""
    segments = [segment for segment in (topic or "").split("/") if segment]
    if len(segments) > 3 and segments[-3:] == ["thing", "property", "get_reply"]:
        return segments[-4]
    return segments[-1] if segments else ""


#: Where the cloud answers the data requests (``get``): the get-all with the whole state.
REPLY_TOPIC = "/app/{user_id}/{serial}/thing/property/get_reply"


def number_of_wire_type(wire_type: int, data: int | bytes) -> int | float | None:
    """The number a field of ``wire_type`` holds, as protobuf hands over a field the
    schema does not name (``data``: the varint, or the fixed-size bits); None for
    length-delimited data."""
    if isinstance(data, bytes):
        return None
    if wire_type == WIRE_VARINT:
        return data - (1 << 64) if data >= 1 << 63 else data
    if wire_type == WIRE_FIXED32:
        (single,) = struct.unpack("<f", data.to_bytes(4, "little"))
        return float(single)
    if wire_type == WIRE_FIXED64:
        (double,) = struct.unpack("<d", data.to_bytes(8, "little"))
        return float(double)
    return None


def unknown_fields(message: _message.Message) -> list[Any]:
    """The fields of ``message`` that its type does not name, as protobuf keeps them (each
    with ``field_number``, ``wire_type`` and ``data``)."""
    fields = UnknownFieldSet(message)
    return [fields[index] for index in range(len(fields))]


def build_get_all_request(seq_ms: int) -> bytes:
    """Ask the device for a full state dump (sent on ``.../thing/property/get``)."""
    return _request(Header(src=APP, dest=APP), seq_ms)


def build_energy_stream_keepalive(seq_ms: int) -> bytes:
    """Keep the energy stream (96/33) flowing (sent on ``.../thing/property/set``).

    It only asks for data and changes no setting of the system.
    """
    header = Header(
        pdata=EnergyStreamSwitch(ems_open_energy_stream=True).SerializeToString(),
        src=APP,
        dest=EMS,
        d_src=1,
        d_dest=1,
        cmd_func=EMS,
        cmd_id=_ENERGY_STREAM_SWITCH,
        need_ack=1,
        version=3,
        payload_ver=1,
    )
    return _request(header, seq_ms)


def build_latest_quotas_request(seq_ms: int) -> bytes:
    """The app's JSON ``latestQuotas`` request (sent on ``.../thing/property/get``): asks
    for the latest values, as the app does while it is open."""
    request = {
        "from": _FROM_APP_JSON,
        "id": str(seq_ms),
        "moduleType": 0,
        "operateType": "latestQuotas",
        "params": {},
        "version": "1.0",
    }
    return json.dumps(request, separators=(",", ":")).encode()


def _request(header: Header, seq_ms: int) -> bytes:
    """The payload of a request sent at ``seq_ms``, a millisecond clock."""
    header.seq = seq_ms & 0x7FFFFFFF  # seq is an int32 on the wire: its low 31 bits
    setattr(header, "from", _FROM_APP)
    return HeaderMessage(header=[header]).SerializeToString()


@dataclass(frozen=True)
class DataRequest:
    """A request for data the exporter publishes to a system: ``name`` is its ``request``
    label, ``verb`` the topic it goes to (``/app/<user>/<serial>/thing/property/<verb>``),
    ``build(seq_ms)`` its payload."""

    name: str
    verb: Literal["get", "set"]
    build: Callable[[int], bytes]


ENERGY_STREAM = DataRequest("energy_stream", "set", build_energy_stream_keepalive)
GET_ALL = DataRequest("get_all", "get", build_get_all_request)
LATEST_QUOTAS = DataRequest("latest_quotas", "get", build_latest_quotas_request)
#: Every data request, in the order the app sends them after connecting.
DATA_REQUESTS = (ENERGY_STREAM, GET_ALL, LATEST_QUOTAS)


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

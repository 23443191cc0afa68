"""Decoding of one PowerOcean MQTT payload into frames and inner messages."""

import struct
from dataclasses import dataclass
from typing import Literal, TypeVar

from google.protobuf import message as _message
from google.protobuf.unknown_fields import UnknownFieldSet

from exporter.powerocean.proto.powerocean_pb2 import Header, HeaderMessage

MAX_PAYLOAD_BYTES = 1_000_000

Reason = Literal["too_large", "not_protobuf", "truncated", "empty", "no_serial", "bad_message"]
SkipReason = Literal["blank_header", "no_serial"]

M = TypeVar("M", bound=_message.Message)

_APP_SRC = 32  # frames from the app are never XOR-encoded
_HEADER_TAG = 0x0A  # HeaderMessage.header: field 1, length-delimited
_XOR_TABLES = tuple(bytes(byte ^ key for byte in range(256)) for key in range(256))
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_FIXED32 = 0, 1, 5


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
class SplitResult:
    """Usable frames of a payload, plus one reason per header that was skipped."""

    frames: list[Frame]
    skipped: list[SkipReason]


def xor_decode(data: bytes, key: int) -> bytes:
    """XOR every byte with ``key & 0xFF`` (its own inverse, so it also encodes)."""
    return data.translate(_XOR_TABLES[key & 0xFF])


def split_payload(payload: bytes, topic: str | None) -> SplitResult:
    """Split one MQTT payload (a HeaderMessage) into frames.

    The serial of a frame is the header's module_sn, else its device_sn, else the
    last non-empty segment of ``topic``. Headers without any known field
    ("blank_header") or without a serial ("no_serial") are skipped and listed in
    ``SplitResult.skipped``. DecodeError is raised only when no frame is left:
    "too_large", "truncated", "not_protobuf" (JSON, garbage, all headers blank),
    "empty" (zero bytes) or "no_serial".
    Nothing else is raised.
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

    topic_serial = _serial_from_topic(topic)
    frames: list[Frame] = []
    skipped: list[SkipReason] = []
    for header in envelope.header:
        if not header.ListFields():
            skipped.append("blank_header")
            continue
        serial = header.module_sn or header.device_sn or topic_serial
        if not serial:
            skipped.append("no_serial")
            continue
        pdata = header.pdata
        if header.enc_type == 1 and header.src != _APP_SRC:
            pdata = xor_decode(pdata, header.seq)
        frames.append(Frame(serial, header.cmd_func, header.cmd_id, header, pdata))
    if not frames:
        raise DecodeError("no_serial" if "no_serial" in skipped else "not_protobuf")
    return SplitResult(frames, skipped)


def parse_message(message_type: type[M], pdata: bytes) -> M:
    """Parse an inner message; DecodeError("bad_message") when pdata is not one."""
    parsed = message_type()
    try:
        parsed.ParseFromString(pdata)
    except _message.DecodeError:
        raise DecodeError("bad_message") from None
    return parsed


def read_number(message: _message.Message, field_name: str) -> float | int:
    """Read a scalar field, also when it arrived with another numeric wire type.

    Firmware versions disagree on float versus integer for some fields. A value
    sent with the other wire type lands in the unknown fields and the declared
    field stays at its default; it is recovered from there.
    """
    value = getattr(message, field_name)
    if value:
        return value
    number = message.DESCRIPTOR.fields_by_name[field_name].number
    for unknown in UnknownFieldSet(message):
        if unknown.field_number == number:
            value = _decode_unknown(unknown.wire_type, unknown.data, value)
    return value


def _decode_unknown(wire_type: int, data: int, default: float | int) -> float | int:
    if wire_type == _WIRE_VARINT:
        return data - (1 << 64) if data >= 1 << 63 else data
    if wire_type == _WIRE_FIXED32:
        return struct.unpack("<f", data.to_bytes(4, "little"))[0]
    if wire_type == _WIRE_FIXED64:
        return struct.unpack("<d", data.to_bytes(8, "little"))[0]
    return default


def _serial_from_topic(topic: str | None) -> str:
    if not topic:
        return ""
    return next((segment for segment in reversed(topic.split("/")) if segment), "")


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

"""Builders of PowerOcean MQTT payloads, for the simulator, the tests and requests."""

from google.protobuf.message import Message

from exporter.powerocean.envelope import xor_decode
from exporter.powerocean.proto.powerocean_pb2 import EnergyStreamSwitch, Header, HeaderMessage

_APP = 32  # address of the app (and of the cloud acting for it)
_EMS = 96  # address of the EMS, also the cmd_func of its messages
_DEVICE = 2
_ENERGY_STREAM_SWITCH = 97
_FROM_APP = {"from": "ios"}  # "from" is a Python keyword


def build_payload(
    serial: str,
    messages: list[tuple[int, int, Message]],
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
            pdata = xor_decode(pdata, xor_seq)
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

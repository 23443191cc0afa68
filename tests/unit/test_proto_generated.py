import pytest

pytest.importorskip("grpc_tools")

from exporter.powerocean.proto.generate import GENERATED_PATH, PROTO_PATH, generated_source


def test_generated_module_is_up_to_date() -> None:
    assert GENERATED_PATH.read_text(encoding="utf-8") == generated_source(PROTO_PATH), (
        "powerocean_pb2.py is stale: run python -m exporter.powerocean.proto.generate"
    )

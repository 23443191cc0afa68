import pytest

pytest.importorskip("grpc_tools")

from exporter.powerocean.proto.generate import GENERATED_PATHS, PROTO_PATH, generated_sources


def test_the_generated_module_and_stub_are_up_to_date() -> None:
    for path, source in zip(GENERATED_PATHS, generated_sources(PROTO_PATH), strict=True):
        assert path.read_text(encoding="utf-8") == source, (
            f"{path.name} is stale: run python -m exporter.powerocean.proto.generate"
        )

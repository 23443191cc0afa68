"""Regenerate ``powerocean_pb2.py`` from ``powerocean.proto``.

Run ``python -m exporter.powerocean.proto.generate`` after editing the schema.
Needs ``grpcio-tools`` (a development dependency only).
"""

import tempfile
from pathlib import Path

PROTO_PATH = Path(__file__).with_name("powerocean.proto")
GENERATED_PATH = Path(__file__).with_name("powerocean_pb2.py")


def generated_source(proto_path: Path = PROTO_PATH) -> str:
    """Return the Python module protoc writes for ``proto_path``."""
    from grpc_tools import protoc  # imported here: not needed at run time

    proto_path = Path(proto_path).resolve()
    with tempfile.TemporaryDirectory() as out_dir:
        status = protoc.main(
            [
                "protoc",
                f"--proto_path={proto_path.parent}",
                f"--python_out={out_dir}",
                proto_path.name,
            ]
        )
        if status != 0:
            raise RuntimeError(f"protoc failed with status {status} on {proto_path}")
        return (Path(out_dir) / f"{proto_path.stem}_pb2.py").read_text(encoding="utf-8")


def main() -> None:
    GENERATED_PATH.write_text(generated_source(), encoding="utf-8")
    print(f"wrote {GENERATED_PATH}")


if __name__ == "__main__":
    main()

"""Regenerate ``powerocean_pb2.py`` and its type stub ``powerocean_pb2.pyi`` from
``powerocean.proto``.

Run ``python -m exporter.powerocean.proto.generate`` after editing the schema.
Needs ``grpcio-tools`` (a development dependency only).
"""

import tempfile
from pathlib import Path

PROTO_PATH = Path(__file__).with_name("powerocean.proto")
#: What protoc writes: the module, and the stub the type checker reads instead of it.
GENERATED_PATHS = (
    PROTO_PATH.with_name(f"{PROTO_PATH.stem}_pb2.py"),
    PROTO_PATH.with_name(f"{PROTO_PATH.stem}_pb2.pyi"),
)


def generated_sources(proto_path: Path = PROTO_PATH) -> tuple[str, str]:
    """The Python module and the type stub protoc writes for ``proto_path``."""
    from grpc_tools import protoc  # imported here: not needed at run time

    proto_path = Path(proto_path).resolve()
    with tempfile.TemporaryDirectory() as out_dir:
        status = protoc.main(
            [
                "protoc",
                f"--proto_path={proto_path.parent}",
                f"--python_out={out_dir}",
                f"--pyi_out={out_dir}",
                proto_path.name,
            ]
        )
        if status != 0:
            raise RuntimeError(f"protoc failed with status {status} on {proto_path}")
        written = Path(out_dir) / f"{proto_path.stem}_pb2"
        module = written.with_suffix(".py").read_text(encoding="utf-8")
        return module, written.with_suffix(".pyi").read_text(encoding="utf-8")


def main() -> None:
    for path, source in zip(GENERATED_PATHS, generated_sources(), strict=True):
        path.write_text(source, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

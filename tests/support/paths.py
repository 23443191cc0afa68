"""Where the tests find the project and, beside it, the shared seeds and captures."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Seeds and a real capture, beside a checkout; tests that need them skip without them.
SHARED = PROJECT_ROOT.parent / "shared"
#: A small REFU mapping with a channel of every register type and word order.
REFU_TYPES_MAPPING = Path(__file__).resolve().parent / "refu_types.yaml"

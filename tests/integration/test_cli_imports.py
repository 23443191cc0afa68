"""The command line loads the server, aiohttp and the device transports only for a command
that needs them, so ``ess-exporter --help`` answers at once."""

from __future__ import annotations

import subprocess
import sys

#: Needed by ``run`` and ``demo`` only.
SERVING = ("aiohttp", "exporter.server", "exporter.app", "prometheus_client", "pymodbus", "paho")


def modules_loaded_by(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    script = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_importing_the_command_line_loads_no_server():
    loaded = modules_loaded_by("import exporter.cli")
    assert "exporter.cli" in loaded
    assert {name for name in loaded if name.startswith(SERVING)} == set()

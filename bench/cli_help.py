"""The wall time of ``ess-exporter --help`` as a user meets it: the console script run as
a process, against the bare interpreter starting and doing nothing (``python -c pass``).

The two alternate; each run is one figure, and the figures are min/median/max over the
runs.

    .venv/bin/python bench/cli_help.py [--runs 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from common import alternate, spreads, timed

#: The console script next to this interpreter, as the project's installation puts it.
CONSOLE_SCRIPT = Path(sys.executable).parent / "ess-exporter"


def run(command: Sequence[str]) -> Callable[[], float]:
    """Seconds for one run of ``command`` to its exit; it must succeed."""
    return lambda: timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="of each command")
    args = parser.parse_args()
    variants = {
        "ess-exporter --help": run([str(CONSOLE_SCRIPT), "--help"]),
        "python -c pass": run([sys.executable, "-c", "pass"]),
    }
    figures = spreads([alternate(variants, 1) for _ in range(args.runs)])
    print(f"wall time of a process to its exit; ms, min/median/max over {args.runs} runs")
    for name, spread in figures.items():
        print(f"  {name:<20} {spread.show(1000, 1):>20}")


if __name__ == "__main__":
    main()

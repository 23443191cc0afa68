"""``python -m exporter``: the same as the ``ess-exporter`` command."""

from exporter.cli import main

main()

"""Log lines as Prometheus exporters write them: ``--log.level`` and ``--log.format``.

One event is one line, in logfmt (``ts=... level=warn logger=... msg="..."``) or JSON; a
traceback, when one is logged, goes into the same line as the ``err`` field.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

#: The level names of Prometheus exporters, lowest first.
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}
FORMATS = ("logfmt", "json")
#: Python's level names that Prometheus exporters write otherwise.
_LEVEL_NAMES = {"WARNING": "warn", "CRITICAL": "error"}


class _EventFormatter(logging.Formatter):
    def __init__(self, output_format: str) -> None:
        super().__init__()
        self._json = output_format == "json"

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        fields = {
            "ts": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": _LEVEL_NAMES.get(record.levelname, record.levelname.lower()),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            fields["err"] = self.formatException(record.exc_info)
        if self._json:
            return json.dumps(fields, ensure_ascii=False)
        return " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())


def _logfmt_value(value: str) -> str:
    """``value`` bare when it can be, else quoted with \\n, \\" and \\\\ escaped."""
    if value and value.isprintable() and not any(c in value for c in ' "=\\'):
        return value
    return json.dumps(value, ensure_ascii=False)


def configure(level: str, output_format: str) -> None:
    """Send every log event to stderr, one line each, at ``level`` and above."""
    handler = logging.StreamHandler()  # to stderr
    handler.setFormatter(_EventFormatter(output_format))
    logging.basicConfig(level=LEVELS[level], handlers=[handler], force=True)

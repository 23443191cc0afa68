"""The Grafana dashboards as the tests read them: every panel, every query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.paths import PROJECT_ROOT

DASHBOARDS = sorted((PROJECT_ROOT / "grafana" / "dashboards").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, also those inside (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expr) of every panel query and every query variable of a dashboard."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"{panel['title']!r} {target.get('refId')}", target.get("expr", "")
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            yield f"${variable['name']}", query["query"] if isinstance(query, dict) else query

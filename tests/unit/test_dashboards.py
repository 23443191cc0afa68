"""Dashboard lint: the dashboard-linter rules that apply here, and Grafana's conventions for
dashboards that are provisioned read-only and imported into other Grafanas.

Generic on purpose: every panel of every dashboard in grafana/dashboards/ must pass.

Of grafana/dashboard-linter's rules, these are checked: template-datasource (one data source
variable, named "datasource", labelled "Data source"), panel-datasource, panel-title-
description, panel-units, panel-no-targets, target-rate-interval, target-counter-agg,
template-on-time-change-reload and uneditable-dashboard (template-label-promql: every
variable's query runs on a real Prometheus in tests/integration/test_prometheus_stack.py).
Left out on purpose: target-job, target-instance, template-job and template-instance, which
want every query filtered by $job and $instance. A REFU is found by its "target" label and a
PowerOcean system by its "serial" wherever they are scraped: by the ess-exporter job or the
refu-probe job, by either of two exporter replicas, on any Prometheus shard. The opposite is
checked instead: no query names a job or an instance.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.reference import metric_rows
from tests.support.dashboards import DASHBOARDS, load, panels, queries
from tests.support.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
PROVISIONING = ROOT / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
#: The data source an import asks for (__inputs); it becomes the variable's default.
DATASOURCE_INPUT = "DS_PROMETHEUS"
#: The data source variable (name, label, query), as dashboard-linter and Grafana's own
#: dashboards have it.
DATASOURCE_VARIABLE = ("datasource", "Data source", "prometheus")
DATASOURCE = "${datasource}"
PROMETHEUS = {"type": "prometheus", "uid": DATASOURCE}
METRIC_NAME = re.compile(r"\b(?:refu|powerocean|sunspec|ess_exporter)_[a-z0-9_]+\b")
#: A range written as a number ([5m], [1d]) rather than a Grafana interval variable.
FIXED_RANGE = re.compile(r"\[\s*\d+[smhdwy]")
RATE_RANGE = re.compile(r"\b(i?rate)\s*\((?P<inner>[^\[]*)\[(?P<range>[^\]]*)\]")
COUNTER_FUNCTIONS = re.compile(r"\b(?:rate|irate|increase)\s*\(\s*$")
#: A matcher that ties a query to one job or one exporter instance.
JOB_OR_INSTANCE = re.compile(r"\b(job|instance)\s*=~?\s*\"")
KNOWN_METRICS = frozenset(row["metric"] for row in metric_rows())


def import_block_problems(dashboard: dict[str, Any]) -> Iterator[str]:
    inputs = dashboard.get("__inputs", [])
    if [(i.get("name"), i.get("type"), i.get("pluginId")) for i in inputs] != [
        (DATASOURCE_INPUT, "datasource", "prometheus")
    ]:
        yield f"__inputs must be one Prometheus data source input named {DATASOURCE_INPUT}"
    required = {(r.get("type"), r.get("id")) for r in dashboard.get("__requires", [])}
    used = {("panel", p["type"]) for p in panels(dashboard) if p["type"] != "row"}
    for missing in sorted({("grafana", "grafana"), ("datasource", "prometheus"), *used} - required):
        yield f"__requires lacks {missing}"


def datasource_problems(dashboard: dict[str, Any]) -> Iterator[str]:
    variables = dashboard["templating"]["list"]
    found = [
        (v["name"], v.get("label"), v["query"]) for v in variables if v["type"] == "datasource"
    ]
    if found != [DATASOURCE_VARIABLE]:
        yield f"data source variables {found}, not one {DATASOURCE_VARIABLE}"
    placeholder = f"${{{DATASOURCE_INPUT}}}"
    for v in variables:
        if v["type"] == "datasource" and v.get("current", {}).get("value") != placeholder:
            yield f"${v['name']}: its default is not the imported {placeholder}"
        if v["type"] == "query" and v["datasource"] != PROMETHEUS:
            yield f"${v['name']}: data source is not {DATASOURCE}"
        if v["type"] == "query" and v.get("refresh") != 2:
            yield f"${v['name']}: not refreshed when the time range changes (refresh 2)"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != PROMETHEUS:
            yield f"{panel['title']!r}: data source is not {DATASOURCE}"
        yield from (
            f"{panel['title']!r} {t.get('refId')}: data source is not {DATASOURCE}"
            for t in panel.get("targets", [])
            if t.get("datasource") != PROMETHEUS
        )


def panel_problems(dashboard: dict[str, Any]) -> Iterator[str]:
    """Description on every panel, a unit on every panel that shows values, unique ids."""
    ids = [panel["id"] for panel in panels(dashboard)]
    if len(ids) != len(set(ids)):
        yield "panel ids are not unique"
    for panel in panels(dashboard):
        title = panel["title"]
        if not str(panel.get("description", "")).strip():
            yield f"{title!r}: no description"
        if panel["type"] == "row":
            continue
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            yield f"{title!r}: no unit"
        if not panel.get("targets"):
            yield f"{title!r}: no queries"
        if "per day" in title.lower():
            yield from calendar_day_problems(panel)


def calendar_day_problems(panel: dict[str, Any]) -> Iterator[str]:
    """A bar per calendar day: 1d steps, each bar what the day it spans holds: a counter's
    increase over [$__interval], or a subquery over [$__interval:] (a day's last total)."""
    title = panel["title"]
    if panel.get("interval") != "1d":
        yield f"{title!r}: a per-day panel needs interval 1d"
    if panel["fieldConfig"]["defaults"].get("custom", {}).get("barAlignment") != -1:
        yield f"{title!r}: per-day bars must end at the step (barAlignment -1)"
    for target in panel["targets"]:
        if not re.search(r"\[\$__interval:?\]", target["expr"]):
            yield f"{title!r} {target['refId']}: per day, a range of [$__interval]"


def query_problems(dashboard: dict[str, Any]) -> Iterator[str]:
    """Rate intervals, counters through rate/increase, and only metrics the exporter serves."""
    for where, expr in queries(dashboard):
        if match := JOB_OR_INSTANCE.search(expr):
            yield f"{where}: filters on one {match[1]}"
        if FIXED_RANGE.search(expr):
            yield f"{where}: a fixed range; use $__rate_interval, $__interval or $__range"
        for match in RATE_RANGE.finditer(expr):
            if match["range"] != "$__rate_interval":
                yield f"{where}: {match[1]}() over [{match['range']}], not [$__rate_interval]"
        for match in METRIC_NAME.finditer(expr):
            name = match.group()
            if name not in KNOWN_METRICS:
                yield f"{where}: {name} is not in ess-exporter metrics"
            if name.endswith("_total") and not COUNTER_FUNCTIONS.search(expr[: match.start()]):
                yield f"{where}: counter {name} outside rate()/increase()"


def problems(dashboard: dict[str, Any]) -> list[str]:
    checks = (
        import_block_problems,
        datasource_problems,
        panel_problems,
        query_problems,
    )
    found = [problem for check in checks for problem in check(dashboard)]
    if dashboard.get("editable") is not False:
        found.append("editable must be false (the dashboards are provisioned read-only)")
    return found


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_passes_the_lint(path: Path):
    assert problems(load(path)) == []


def test_dashboard_uids_are_unique_and_set():
    uids = [load(path)["uid"] for path in DASHBOARDS]
    assert all(uids) and len(uids) == len(set(uids)), uids


def test_provisioning_does_not_allow_ui_changes():
    [provider] = yaml.safe_load(PROVISIONING.read_text(encoding="utf-8"))["providers"]
    assert provider["allowUiUpdates"] is False
    assert provider["disableDeletion"] is True


def test_the_lint_finds_what_it_is_for():
    """Each rule, broken once in a copy of a real dashboard."""
    dashboard = copy.deepcopy(load(DASHBOARDS[0]))
    dashboard["editable"] = True
    dashboard["__inputs"] = []
    panel = next(p for p in panels(dashboard) if p["type"] == "timeseries")
    panel["description"] = ""
    del panel["fieldConfig"]["defaults"]["unit"]
    panel["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    panel["targets"][0]["expr"] = (
        'rate(refu_modbus_requests_total{job="refu-probe"}[5m]) + refu_no_such_metric'
    )
    panel["targets"].append(
        {**panel["targets"][0], "refId": "Z", "expr": "refu_scrape_errors_total"}
    )
    title, where = repr(panel["title"]), f"{panel['title']!r} {panel['targets'][0]['refId']}"
    per_day = next(p for p in panels(dashboard) if "per day" in p["title"].lower())
    per_day["interval"] = "1h"
    per_day["targets"][0]["expr"] = per_day["targets"][0]["expr"].replace("$__interval", "$__range")
    variable = next(v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    variable["name"] = "DS_PROMETHEUS"
    query_variable = next(v for v in dashboard["templating"]["list"] if v["type"] == "query")
    query_variable["refresh"] = 1
    found = problems(dashboard)
    assert f"{per_day['title']!r}: a per-day panel needs interval 1d" in found
    assert f"{per_day['title']!r} A: per day, a range of [$__interval]" in found
    assert "editable must be false (the dashboards are provisioned read-only)" in found
    assert f"__inputs must be one Prometheus data source input named {DATASOURCE_INPUT}" in found
    assert f"{title}: no description" in found
    assert f"{title}: no unit" in found
    assert f"{where}: data source is not {DATASOURCE}" in found
    assert f"{where}: a fixed range; use $__rate_interval, $__interval or $__range" in found
    assert f"{where}: rate() over [5m], not [$__rate_interval]" in found
    assert f"{where}: filters on one job" in found
    renamed = ("DS_PROMETHEUS", "Data source", "prometheus")
    assert f"data source variables {[renamed]}, not one {DATASOURCE_VARIABLE}" in found
    refresh = f"${query_variable['name']}: not refreshed when the time range changes (refresh 2)"
    assert refresh in found
    assert f"{where}: refu_no_such_metric is not in ess-exporter metrics" in found
    assert f"{title} Z: counter refu_scrape_errors_total outside rate()/increase()" in found

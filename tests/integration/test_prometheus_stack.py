"""The Prometheus side of the project, checked with the real tools.

- ``promtool`` checks the alert rules, runs their unit tests and checks the stack's config.
- A real Prometheus, started here with the stack's own ``prometheus.yml`` (addresses rewritten
  to loopback, intervals shortened), scrapes an exporter that reads a REFU simulator and a
  PowerOcean simulator. Every Grafana query must succeed against it *and* return data, every
  metric name a dashboard or rule uses must exist, and every rule must evaluate cleanly.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.app import Exporter
from exporter.configfile import Config
from exporter.modbus.config import ModbusTargetConfig
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import POWEROCEAN_HEALTH
from exporter.powerocean.config import BrokerConfig, PowerOceanConfig
from exporter.reference import metric_rows
from exporter.refu.config import RefuConfig
from exporter.simulate import free_port
from exporter.simulate.broker import EmbeddedBroker
from exporter.simulate.powerocean import (
    DcFitModel,
    Ocean2Model,
    PowerOceanModel,
    PowerOceanPublisher,
)
from exporter.simulate.sunspec import REFUSTORE_88K, STORAGE_INVERTER
from tests.support.dashboards import DASHBOARDS, load, panels, queries
from tests.support.paths import PROJECT_ROOT
from tests.support.processes import stop_process
from tests.support.refu_simulator import ControlledRefuSimulator
from tests.support.sunspec_simulator import ControlledSunSpecSimulator

ROOT = PROJECT_ROOT
PROMETHEUS_DIR = ROOT / "prometheus"
RULES = PROMETHEUS_DIR / "rules" / "ess.yml"
RULE_TESTS = PROMETHEUS_DIR / "rules" / "ess.test.yml"

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SERIAL = "R371ZD1AZH000001"
DC_FIT_SERIAL = "HC31ZD1AZH000002"
OCEAN2_SERIAL = "RE11ZD1AZH000003"
#: What Grafana would put in for the dashboards' variables.
VARIABLES = {
    "target": ".*",
    "serial": ".*",
    "pack": ".*",
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "5m",
}
#: Set in the REFU simulator so that the fault and warning tables have something to show.
FAULT_WORD, ALARM_WORD = 1 << 1, 1 << 6  # "Normal leakage ...", "Normal high temperature"
#: Set in the simulated 88K, for its events table: GRID_DISCONNECT, and a vendor event.
SUNSPEC_EVENTS = 1 << 4
METRIC_NAME = re.compile(r"\b(?:refu|powerocean|sunspec)_[a-z0-9_]+\b")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert Path(PROMTOOL).exists(), "promtool (Debian package prometheus) is needed"
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )


def substitute(expr: str, **chosen: str) -> str:
    """Grafana's ``$var`` / ``${var}`` replaced by concrete values (``chosen`` ones first)."""
    variables = {**VARIABLES, **chosen}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"unknown variable ${name} in {expr!r}"
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def label_values_query(expr: str) -> str:
    """``label_values(selector, label)`` as a query that returns one series per value."""
    match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", expr.strip())
    if match is None:
        return expr
    selector, label = match.groups()
    return f"count by ({label}) ({selector})"


# -- promtool


def test_rules_pass_promtool_check():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_their_unit_tests():
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_cover_every_alert_firing_and_quiet():
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    firing = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested not firing"
    for rule in (r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]):
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_stack_prometheus_config_passes_promtool_check():
    result = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_device_statistics_per_day_show_each_days_last_total(tmp_path: Path):
    """The dashboard's query over a day change, in promtool: the device's total of a day
    is that day's bar, also when the new day is lower and the old day's total is still
    served for a while after midnight (until the device's first frame of the new day)."""
    dashboard = load(PROJECT_ROOT / "grafana" / "dashboards" / "powerocean.json")
    [expr] = [
        target["expr"]
        for panel in panels(dashboard)
        if panel["title"] == "Energy per day, device statistics by type"
        for target in panel["targets"]
    ]
    labels = '{serial="S", energy_type="1"}'
    kwh = 3_600_000
    case = {
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1h",
                "input_series": [
                    {  # 23 kWh by the end of day 0; its total again at 24h; day 1: 11.5 kWh
                        "series": f"powerocean_energy_today_joules{labels}",
                        "values": f"0+{kwh}x23 {23 * kwh} {kwh // 2}+{kwh // 2}x22",
                    },
                    {
                        "series": f"powerocean_energy_statistics_day_timestamp_seconds{labels}",
                        "values": "0x24 86400x22",
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": substitute(expr.replace("$__interval", "1d")),
                        "eval_time": eval_time,
                        "exp_samples": [{"labels": labels, "value": value}],
                    }
                    for eval_time, value in (("1d", 23), ("2d", 11.5))
                ],
            }
        ],
    }
    test_file = tmp_path / "per-day.test.yml"
    test_file.write_text(yaml.safe_dump(case))
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


# -- the running stack


@dataclass
class Stack:
    prometheus_url: str
    exporter: Exporter
    refu: ControlledRefuSimulator
    sunspec: list[ControlledSunSpecSimulator]
    log: Path

    def api(self, path: str, **params: str) -> dict[str, Any]:
        url = f"{self.prometheus_url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:  # a bad query answers 400 with a JSON error
            return json.load(exc)

    def query(self, expr: str) -> dict[str, Any]:
        return self.api("query", query=expr)

    def series(self, expr: str) -> list[dict[str, Any]]:
        answer = self.query(expr)
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        return answer["data"]["result"]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; Prometheus log:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)


def stack_config(exporter: str, refu: str, sunspec: list[str]) -> dict[str, Any]:
    """The stack's prometheus.yml, pointed at loopback addresses and scraping every second.

    The jobs that find the compose stack's simulators by DNS get the loopback simulators
    instead (refu-probe, sunspec-probe) or are left out (simulators: the one exporter here
    serves it all through the ess-exporter job).
    """
    text = (PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text.replace("exporter:9640", exporter))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(PROMETHEUS_DIR / pattern) for pattern in config["rule_files"]]
    config["scrape_configs"] = [
        job for job in config["scrape_configs"] if job["job_name"] != "simulators"
    ]
    for job in config["scrape_configs"]:
        job.update(scrape_interval="1s", scrape_timeout="1s")
        probed = {"refu-probe": [refu], "sunspec-probe": sunspec}.get(job["job_name"])
        if probed:
            del job["dns_sd_configs"]
            job["static_configs"] = [{"targets": probed}]
    return config


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert Path(PROMETHEUS).exists(), "prometheus (Debian package prometheus) is needed"
    directory = tmp_path_factory.mktemp("prometheus")
    with contextlib.ExitStack() as cleanup:
        refu = ControlledRefuSimulator("127.0.0.1", free_port())
        refu.pin("refu.BatteryFault1", FAULT_WORD)
        refu.pin("refu.BatteryAlarm1", ALARM_WORD)
        refu.start()
        cleanup.callback(refu.stop)
        sunspec = [
            ControlledSunSpecSimulator("127.0.0.1", free_port(), chain=chain)
            for chain in (REFUSTORE_88K, STORAGE_INVERTER)
        ]
        sunspec[0].pin(103, "Evt1", SUNSPEC_EVENTS)
        sunspec[0].pin(103, "EvtVnd1", SUNSPEC_EVENTS)
        for simulator in sunspec:
            simulator.start()
            cleanup.callback(simulator.stop)
        broker = EmbeddedBroker("127.0.0.1", free_port())
        broker.start()
        cleanup.callback(broker.stop)
        systems = {
            SERIAL: PowerOceanModel(),
            DC_FIT_SERIAL: DcFitModel(),
            OCEAN2_SERIAL: Ocean2Model(OCEAN2_SERIAL),
        }
        for serial, model in systems.items():
            publisher = PowerOceanPublisher(broker.url, serial, interval=0.5, model=model)
            publisher.start()
            cleanup.callback(publisher.stop)
        config = Config(
            refu=RefuConfig(targets=(ModbusTargetConfig("refu-sim", "127.0.0.1", refu.port, 1),)),
            powerocean=PowerOceanConfig(
                devices={SERIAL: "plus", DC_FIT_SERIAL: "fit", OCEAN2_SERIAL: "ocean2"},
                broker=BrokerConfig(url=broker.url),
            ),
        )
        exporter = Exporter(config, host="127.0.0.1", port=0)
        exporter.start()
        cleanup.callback(exporter.stop)

        config_file = directory / "prometheus.yml"
        config_file.write_text(
            yaml.safe_dump(
                stack_config(
                    f"127.0.0.1:{exporter.port}",
                    f"127.0.0.1:{refu.port}",
                    [f"127.0.0.1:{simulator.port}" for simulator in sunspec],
                )
            )
        )
        checked = promtool("check", "config", str(config_file))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        port = free_port()
        log = directory / "prometheus.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

        cleanup.callback(stop_process, process, 10)
        running = Stack(f"http://127.0.0.1:{port}", exporter, refu, sunspec, log)
        wait_until(lambda: has_data(running, process), 40, "scraped samples", log)
        yield running


#: Three samples of each, so that rate() and increase() over them have two to work with.
READY = (
    'refu_up{job="ess-exporter"}',
    'refu_up{job="refu-probe"}',
    "powerocean_battery_pack_cycles_total",
    "powerocean_battery_charged_energy_joules_total",
    "powerocean_messages_received_total",
    'sunspec_up{job="sunspec-probe"}',
    "sunspec_inverter_ac_energy_joules_total",
)


def has_data(running: Stack, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, f"Prometheus exited:\n{running.log.read_text()[-3000:]}"
    try:
        return all(
            running.query(f"count_over_time({selector}[1m]) >= 3").get("data", {}).get("result")
            for selector in READY
        )
    except OSError:  # not listening yet
        return False


def metric_names(stack: Stack) -> set[str]:
    answer = stack.api("label/__name__/values")
    assert answer["status"] == "success"
    return set(answer["data"])


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_query_returns_data(stack: Stack, path: Path):
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    known = metric_names(stack)
    problems = []
    for where, expr in queries(dashboard):
        concrete = label_values_query(substitute(expr))
        answer = stack.query(concrete)
        if answer["status"] != "success":
            problems.append(f"{where}: {answer.get('errorType')}: {answer.get('error')}")
        elif not answer["data"]["result"]:
            problems.append(f"{where}: no series for {concrete}")
        # Each metric on its own: a typo in one branch of an "or" would not empty the result.
        problems += [
            f"{where}: no metric {name}" for name in METRIC_NAME.findall(expr) if name not in known
        ]
    assert not problems, "\n".join(problems)


def test_an_ocean2_shows_on_every_dashboard_panel_of_values_it_reports(stack: Stack):
    """The Ocean 2 reports under the PowerOcean's names: each query of the system chosen
    in $serial that reads only metrics an Ocean 2 reports has its series."""
    reported = {c.metric for c in load_powerocean_mapping().channels if c.variant == "ocean2"}
    reported |= {metric.name for metric in POWEROCEAN_HEALTH}
    problems, asked = [], 0
    for path in DASHBOARDS:
        for where, expr in queries(json.loads(path.read_text(encoding="utf-8"))):
            names = set(METRIC_NAME.findall(expr))
            if "$serial" not in expr or not names or not names <= reported:
                continue
            concrete = label_values_query(substitute(expr, serial=OCEAN2_SERIAL))
            asked += 1
            if not stack.query(concrete)["data"]["result"]:
                problems.append(f"{path.name} {where}: no series for {concrete}")
    assert asked and not problems, "\n".join(problems)


def test_every_metric_served_is_in_the_metric_reference(stack: Stack):
    served = {
        name
        for name in metric_names(stack)
        if re.match(r"(refu|powerocean|sunspec|ess_exporter)_", name)
    }
    listed = {row["metric"] for row in metric_rows()}
    assert "refu_up" in served and "powerocean_mqtt_connected" in served
    assert served - listed == set(), "served but missing from ess-exporter metrics"


def rules() -> list[dict[str, Any]]:
    return [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]


def test_every_rule_expression_is_valid_against_the_exporter(stack: Stack):
    known = metric_names(stack) | {"up"}
    problems = []
    for rule in rules():
        answer = stack.query(rule["expr"])
        if answer["status"] != "success":
            problems.append(f"{rule['alert']}: {answer.get('error')}")
        problems += [
            f"{rule['alert']}: no metric {name}"
            for name in METRIC_NAME.findall(rule["expr"])
            if name not in known
        ]
    assert not problems, "\n".join(problems)


def test_prometheus_loads_and_evaluates_every_rule(stack: Stack):
    expected = {rule["alert"] for rule in rules()}

    def evaluated() -> list[dict[str, Any]]:
        groups = stack.api("rules")["data"]["groups"]
        loaded = [rule for group in groups for rule in group["rules"]]
        if {r["name"] for r in loaded} == expected and all(
            not r["lastEvaluation"].startswith("0001") for r in loaded
        ):
            return loaded
        return []

    wait_until(lambda: bool(evaluated()), 20, "the rules to be evaluated", stack.log)
    assert [(r["name"], r["lastError"]) for r in evaluated() if r["health"] != "ok"] == []


def test_fault_and_alarm_bits_of_the_simulator_make_their_alerts_pending(stack: Stack):
    def active() -> set[tuple[str, str, str]]:
        return {
            (a["labels"]["alertname"], a["labels"]["target"], a["labels"]["bit"])
            for a in stack.api("alerts")["data"]["alerts"]
            if a["labels"].get("job") == "ess-exporter"
        }

    wanted = {("RefuBatteryFault", "refu-sim", "1"), ("RefuBatteryAlarm", "refu-sim", "6")}
    wait_until(lambda: wanted <= active(), 20, f"alerts {wanted}", stack.log)


def test_probe_job_reads_the_refu_through_the_exporter(stack: Stack):
    address = f"127.0.0.1:{stack.refu.port}"
    [series] = stack.series('refu_up{job="refu-probe"}')
    assert series["metric"]["instance"] == address
    assert series["metric"]["target"] == address
    assert series["value"][1] == "1"


def test_probe_job_reads_the_sunspec_inverters_through_the_exporter(stack: Stack):
    addresses = {f"127.0.0.1:{simulator.port}" for simulator in stack.sunspec}
    series = stack.series('sunspec_up{job="sunspec-probe"}')
    assert {s["metric"]["target"] for s in series} == addresses
    assert all(s["value"][1] == "1" for s in series)

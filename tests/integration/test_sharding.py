"""The sharding recipe of docs/sharding.md, with real parts.

Two exporter replicas (``ess-exporter run`` with the Kubernetes base's config.yml), two
Prometheus servers (the Debian package) each running docs/sharding/prometheus-shard.yml as
its shard, and 200 simulated REFUs, each on an address of its own. Each shard reaches the
replicas through a Service-like front (tests/support/front.py), as Prometheus reaches them
through the Service in Kubernetes. One replica is killed while the shards scrape.

The figures checked are counts, not times: which shard has which target, how many scrapes
in a row failed, how often a counter went back. Time only bounds the waiting.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.support.exporter_process import ExporterProcess
from tests.support.front import Front
from tests.support.paths import PROJECT_ROOT
from tests.support.polling import until
from tests.support.prometheus import PrometheusServer, promtool
from tests.support.refu_fleet import RefuFleet
from tests.support.sharding import EXPORTER_CONFIG, RULES, shard_config

DOCS = PROJECT_ROOT / "docs" / "sharding"
TARGETS = 200
SHARDS = 2
#: Seconds between two scrapes of a target; the test watches a few after the kill.
INTERVAL = 2
SCRAPES_AFTER_THE_KILL = 4
#: Generous: the waits end as soon as what they wait for is there.
DEADLINE = 120.0
PROBE_JOB = 'job="refu-probe"'


@dataclass
class Fleet:
    refus: RefuFleet
    replicas: list[ExporterProcess]
    fronts: list[Front]
    shards: list[PrometheusServer]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    directory = tmp_path_factory.mktemp("sharding")
    with contextlib.ExitStack() as stack:
        refus = stack.enter_context(RefuFleet(TARGETS))
        replicas = []
        for _ in range(2):
            replica = ExporterProcess("--config", str(EXPORTER_CONFIG))
            stack.callback(replica.stop)
            replica.wait_until_served()
            replicas.append(replica)
        ports = [replica.port for replica in replicas]
        # Each shard's front starts at a replica of its own, as two Prometheus pods may.
        fronts = [stack.enter_context(Front(ports, first=shard)) for shard in range(SHARDS)]
        targets_file = directory / "refu.yml"
        targets_file.write_text(yaml.safe_dump([{"targets": refus.addresses}]))
        shards = []
        for shard in range(SHARDS):
            config = shard_config(
                shard,
                SHARDS,
                targets_file=targets_file,
                exporter=f"127.0.0.1:{fronts[shard].port}",
                replicas=[f"127.0.0.1:{port}" for port in ports],
                interval=INTERVAL,
                timeout=INTERVAL * 0.75,
            )
            server = PrometheusServer(config, directory / f"shard-{shard}")
            shards.append(stack.enter_context(server))
        running = Fleet(refus, replicas, fronts, shards)
        wait_for(
            lambda: len(targets_up(running)) == TARGETS, "every REFU read with refu_up 1", running
        )
        yield running


def wait_for(condition: Any, what: str, fleet: Fleet) -> None:
    if not until(condition, DEADLINE):
        logs = "\n".join(shard.log_tail() for shard in fleet.shards)
        pytest.fail(f"timed out waiting for {what}; Prometheus logs:\n{logs}")


def active_targets(shard: PrometheusServer) -> set[str]:
    """The REFUs a shard scrapes (its active targets of the probe job)."""
    answer = shard.api("targets", state="active")
    return {
        t["labels"]["instance"]
        for t in answer["data"]["activeTargets"]
        if t["labels"].get("job") == "refu-probe"
    }


def targets_up(fleet: Fleet) -> set[str]:
    """REFUs whose last scrape said refu_up 1, on any shard."""
    return {
        series["metric"]["target"]
        for shard in fleet.shards
        for series in shard.series(f"refu_up{{{PROBE_JOB}}} == 1")
    }


def samples_since(shard: PrometheusServer, selector: str, since: float) -> dict[str, list[float]]:
    """Every sample of ``selector`` from ``since`` (Unix time) on, by instance, in order."""
    seconds = int(time.time() - since) + 1
    return {
        series["metric"]["instance"]: [float(v) for t, v in series["values"] if t >= since]
        for series in shard.series(f"{selector}[{seconds}s]")
    }


def failures_in_a_row(ups: list[float]) -> int:
    """The longest run of failed scrapes (up 0)."""
    longest = run = 0
    for up in ups:
        run = run + 1 if up == 0 else 0
        longest = max(longest, run)
    return longest


def rules_of(shard: PrometheusServer) -> list[dict[str, Any]]:
    return [rule for group in shard.api("rules")["data"]["groups"] for rule in group["rules"]]


@pytest.mark.parametrize(
    ("example", "mode"), [("prometheus-shard.yml", ()), ("prometheus-agent.yml", ("--agent",))]
)
def test_the_sharding_examples_pass_promtool(example: str, mode: tuple[str, ...]):
    """Syntax only: the files they name (rules, target files) are the user's."""
    result = promtool("check", "config", *mode, "--syntax-only", str(DOCS / example))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sharding_page_quotes_its_example_files():
    """Each YAML block of docs/sharding.md is part of one of the files the tests check."""
    page = (PROJECT_ROOT / "docs" / "sharding.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", page, flags=re.DOTALL)
    examples = [path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.y*ml"))]
    assert blocks
    assert [block for block in blocks if not any(block in text for text in examples)] == []


def test_no_alert_rule_is_tied_to_one_instance_or_job_but_the_exporters_own():
    """Each rule is about the targets of the shard that evaluates it, wherever they are:
    no instance is named, and the only job named is the exporters' own (up == 0)."""
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    named = {
        (rule["alert"], match[0], match[1])
        for group in groups
        for rule in group["rules"]
        for match in re.findall(r'\b(job|instance)\s*=~?\s*"([^"]*)"', rule["expr"])
    }
    assert named == {("EssExporterDown", "job", "ess-exporter")}


def test_every_target_is_scraped_by_exactly_one_shard(fleet: Fleet):
    scraped = [active_targets(shard) for shard in fleet.shards]
    assert scraped[0].isdisjoint(scraped[1])
    assert scraped[0] | scraped[1] == set(fleet.refus.addresses)
    # Hashing the REFU's address spreads them; hashing __address__ would give one shard all.
    assert all(len(targets) > TARGETS // 4 for targets in scraped), [len(t) for t in scraped]


def test_all_targets_say_refu_up_1(fleet: Fleet):
    assert targets_up(fleet) == set(fleet.refus.addresses)


def test_a_stopped_replica_loses_no_target_for_longer_than_one_interval(fleet: Fleet):
    killed, survivor = fleet.replicas
    started = time.time()
    killed.kill()
    stopped = time.time()

    def scraped_enough_since_the_kill() -> bool:
        counts = [
            len(values)
            for shard in fleet.shards
            for values in samples_since(shard, f"up{{{PROBE_JOB}}}", stopped).values()
        ]
        return len(counts) == TARGETS and min(counts) >= SCRAPES_AFTER_THE_KILL

    wait_for(scraped_enough_since_the_kill, "scrapes after the kill", fleet)
    # From the last scrape before the kill on: at most one failed scrape in a row (the one
    # in flight on the killed replica, if any).
    since = started - INTERVAL
    ups = [samples_since(shard, f"up{{{PROBE_JOB}}}", since) for shard in fleet.shards]
    lost = {
        instance: values
        for by_instance in ups
        for instance, values in by_instance.items()
        if failures_in_a_row(values) > 1
    }
    assert lost == {}
    # The shard whose front sent everything to the killed replica now reaches the survivor.
    assert fleet.fronts[0].connections[survivor.port] > 0
    wait_for(lambda: targets_up(fleet) == set(fleet.refus.addresses), "refu_up 1 again", fleet)


def test_health_counters_reset_at_most_once_across_the_failover(fleet: Fleet):
    """Each Prometheus stays with one replica (the Service's session affinity), so a REFU's
    counters come from one process until it goes away: rate() sees one reset at most."""
    resets = {
        series["metric"]["target"]: float(series["value"][1])
        for shard in fleet.shards
        for series in shard.series(f"resets(refu_modbus_requests_total{{{PROBE_JOB}}}[10m])")
    }
    assert len(resets) == TARGETS
    assert {target: n for target, n in resets.items() if n > 1} == {}


def test_the_alert_rules_load_and_evaluate_on_every_shard(fleet: Fleet):
    def evaluated() -> bool:
        rules = [rule for shard in fleet.shards for rule in rules_of(shard)]
        return bool(rules) and all(not r["lastEvaluation"].startswith("0001") for r in rules)

    wait_for(evaluated, "the rules to be evaluated on every shard", fleet)
    for shard in fleet.shards:
        assert [(r["name"], r["lastError"]) for r in rules_of(shard) if r["health"] != "ok"] == []

"""docs/sharding/prometheus-shard.yml made into the configuration of one shard here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import PROJECT_ROOT

SHARD_CONFIG = PROJECT_ROOT / "docs" / "sharding" / "prometheus-shard.yml"
RULES = PROJECT_ROOT / "prometheus" / "rules" / "ess.yml"
#: The configuration the Kubernetes base gives the exporter's replicas.
EXPORTER_CONFIG = PROJECT_ROOT / "deploy" / "kubernetes" / "base" / "config.yml"


def shard_config(
    shard: int,
    shards: int,
    *,
    targets_file: Path,
    exporter: str,
    replicas: list[str],
    interval: float,
    timeout: float,
) -> dict[str, Any]:
    """The documented shard configuration as shard ``shard`` of ``shards``: its hashmod
    rules take ``shards`` as modulus and its keep rules keep ``shard``; the REFUs come from
    ``targets_file`` (file_sd), the exporter is at ``exporter`` (HOST:PORT, the Service),
    its ``replicas`` (HOST:PORT each) are scraped for their own metrics; the rules are the
    project's, evaluated every ``interval`` seconds."""
    config = yaml.safe_load(SHARD_CONFIG.read_text(encoding="utf-8"))
    config["global"].update(
        scrape_interval=_duration(interval),
        scrape_timeout=_duration(timeout),
        evaluation_interval=_duration(interval),
    )
    config["rule_files"] = [str(RULES)]
    for job in config["scrape_configs"]:
        for rule in job.get("relabel_configs", []):
            if rule.get("action") == "hashmod":
                rule["modulus"] = shards
            if rule.get("action") == "keep" and rule.get("source_labels") == ["__tmp_shard"]:
                rule["regex"] = str(shard)
            if rule.get("target_label") == "__address__":
                rule["replacement"] = exporter
        if "file_sd_configs" in job:
            job["file_sd_configs"] = [{"files": [str(targets_file)]}]
        if "static_configs" in job:
            job["static_configs"] = [{"targets": replicas}]
    return config


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"

"""Writes deploy/kubernetes/base/prometheusrule.yaml, the Prometheus Operator's form of the
alert rules: a PrometheusRule whose ``spec.groups`` are the groups of prometheus/rules/ess.yml.

ess.yml stays the one place the rules are written (promtool tests it, the compose stack and
the sharding recipe load it); a test fails while the PrometheusRule is stale.

The groups are written out anew rather than copied as text, with every multi-line string as a
literal block: kustomize reads a folded block whose lines are indented further (the multi-line
``expr: >-`` of ess.yml) with an extra blank line between them, a literal block as it is.
A long one-line string (a description) is a folded block, broken at spaces only.

Regenerate with: .venv/bin/python -m tests.support.prometheus_rule
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.support.paths import PROJECT_ROOT

RULES = PROJECT_ROOT / "prometheus" / "rules" / "ess.yml"
PROMETHEUS_RULE = PROJECT_ROOT / "deploy" / "kubernetes" / "base" / "prometheusrule.yaml"
REGENERATE = ".venv/bin/python -m tests.support.prometheus_rule"
#: Where a folded block is broken (the first space past it), and the length from which a
#: one-line string is written as one.
WIDTH = 90

HEADER = f"""\
# The alert rules of prometheus/rules/ess.yml for the Prometheus Operator. Made from that
# file, do not edit: change ess.yml and run {REGENERATE}
# The labels of base/kustomization.yaml (app.kubernetes.io/part-of: ess-exporter) are what a
# Prometheus's ruleSelector matches; see docs/kubernetes.md.
"""


class ManifestDumper(yaml.SafeDumper):
    """YAML as the manifests are written: lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line strings as literal blocks, long ones as folded blocks, others plain."""
    style = "|" if "\n" in value else ">" if len(value) > WIDTH else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


ManifestDumper.add_representer(str, represent_str)


def prometheus_rule(rules_text: str) -> str:
    """The PrometheusRule manifest holding the groups of the rule file ``rules_text``."""
    resource: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "ess-exporter"},
        "spec": {"groups": yaml.safe_load(rules_text)["groups"]},
    }
    body = yaml.dump(
        resource, Dumper=ManifestDumper, sort_keys=False, allow_unicode=True, width=WIDTH
    )
    return HEADER + body


def main() -> None:
    PROMETHEUS_RULE.write_text(prometheus_rule(RULES.read_text(encoding="utf-8")), "utf-8")


if __name__ == "__main__":
    main()

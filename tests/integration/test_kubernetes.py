"""deploy/kubernetes: the base and every overlay render with ``kubectl kustomize``, and every
resource they make passes the checks a cluster would make, strictly.

- Kubernetes' own kinds: kubernetes-validate with the API schema of a current release,
  unknown fields refused.
- The Prometheus Operator's kinds (Probe, ServiceMonitor, PodMonitor, PrometheusRule, and on
  the sharding page Prometheus and ScrapeConfig): the models generated from the Operator's
  published CRD schemas (package cloudcoil.models.prometheus_operator); a field the CRD does
  not have counts as an error too, where the API server would drop it.

Then what the manifests promise: hardened pods, probes on /-/healthy, the Probe pointed at
the Service, one Deployment, Secret and PodMonitor per EcoFlow account, the alert rules of
prometheus/rules/ess.yml in a PrometheusRule that is not stale, and configurations that
``ess-exporter check-config`` accepts.
"""

from __future__ import annotations

import base64
import copy
import functools
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pydantic
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1, v1alpha1

from tests.support.exporter_process import run_command
from tests.support.paths import PROJECT_ROOT
from tests.support.prometheus_rule import PROMETHEUS_RULE, REGENERATE, RULES, prometheus_rule

KUBERNETES = PROJECT_ROOT / "deploy" / "kubernetes"
KUSTOMIZATIONS = [
    KUBERNETES,
    *sorted(path.parent for path in (KUBERNETES / "overlays").glob("*/kustomization.yaml")),
]
#: Resources shown on the sharding page, checked like the rendered ones.
DOC_EXAMPLES = sorted((PROJECT_ROOT / "docs" / "sharding").glob("*.yaml"))
KUBECTL = Path(sys.executable).parent / "kubectl"
#: The newest Kubernetes release kubernetes-validate knows (pinned in constraints.txt).
KUBERNETES_VERSION = kubernetes_validate.utils.latest_version()
OPERATOR_MODELS: Mapping[tuple[str, str], type[pydantic.BaseModel]] = {
    ("monitoring.coreos.com/v1", "Probe"): v1.Probe,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): v1.ServiceMonitor,
    ("monitoring.coreos.com/v1", "PodMonitor"): v1.PodMonitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): v1.PrometheusRule,
    ("monitoring.coreos.com/v1", "Prometheus"): v1.Prometheus,
    ("monitoring.coreos.com/v1alpha1", "ScrapeConfig"): v1alpha1.ScrapeConfig,
}
HEALTHY = "/-/healthy"

Resource = dict[str, Any]


def name_of(directory: Path) -> str:
    return str(directory.relative_to(PROJECT_ROOT))


@functools.cache
def rendered(directory: Path) -> tuple[Resource, ...]:
    """``kubectl kustomize DIRECTORY``, parsed."""
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


# -- validation


def unknown_fields(given: Any, kept: Any, path: str = "") -> Iterator[str]:
    """Keys of ``given`` that validation dropped (absent from ``kept``), as dotted paths."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"{path}{key}"
            else:
                yield from unknown_fields(value, kept[key], f"{path}{key}.")
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (value, kept_value) in enumerate(zip(given, kept, strict=False)):
            yield from unknown_fields(value, kept_value, f"{path}{i}.")


def operator_problems(resource: Resource, model: type[pydantic.BaseModel]) -> list[str]:
    try:
        kept = model.model_validate(resource)
    except pydantic.ValidationError as exc:
        return [f"{e['loc']}: {e['msg']}" for e in exc.errors()]
    dumped = kept.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return [f"{field}: not in the CRD" for field in unknown_fields(resource, dumped)]


def problems(resource: Resource) -> list[str]:
    """What the API server would refuse or drop of ``resource``."""
    where = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
    model = OPERATOR_MODELS.get((resource.get("apiVersion", ""), resource.get("kind", "")))
    if model is not None:
        return [f"{where}: {problem}" for problem in operator_problems(resource, model)]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{where}: {exc.message}"]
    return []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=name_of)
def test_renders_and_every_resource_is_valid(directory: Path):
    resources = rendered(directory)
    assert resources
    assert [problem for resource in resources for problem in problems(resource)] == []


@pytest.mark.parametrize("path", DOC_EXAMPLES, ids=lambda p: p.name)
def test_every_resource_of_the_sharding_page_is_valid(path: Path):
    resources = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert resources
    assert [problem for resource in resources for problem in problems(resource)] == []


def test_the_validation_finds_what_it_is_for():
    """A wrong type, an unknown field and a bad duration, each in one kind of resource."""
    resources = {r["kind"]: copy.deepcopy(r) for r in rendered(KUBERNETES)}
    resources["Deployment"]["spec"]["replicas"] = "two"
    resources["Service"]["spec"]["sessionAfinity"] = "ClientIP"
    resources["Probe"]["spec"]["interval"] = "15 seconds"
    resources["ServiceMonitor"]["spec"]["endpoints"][0]["paht"] = "/metrics"
    resources["PrometheusRule"]["spec"]["groups"][0]["rules"][0]["expresion"] = "up == 0"
    found = [problem for resource in resources.values() for problem in problems(resource)]
    assert any(p.startswith("Deployment/ess-exporter: spec.replicas") for p in found), found
    assert any(p.startswith("Service/ess-exporter: spec") for p in found), found
    assert any("Probe/refu" in p and "interval" in p for p in found), found
    assert "ServiceMonitor/ess-exporter: spec.endpoints.0.paht: not in the CRD" in found
    assert "PrometheusRule/ess-exporter: spec.groups.0.rules.0.expresion: not in the CRD" in found


# -- what the manifests promise


def all_rendered() -> list[Resource]:
    return [resource for directory in KUSTOMIZATIONS for resource in rendered(directory)]


def of_kind(resources: tuple[Resource, ...] | list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_problems(deployment: Resource) -> Iterator[str]:
    """The hardening of prometheus-community's exporter charts, and the Restricted Pod
    Security Standard."""
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    context = pod.get("securityContext", {})
    if context.get("runAsNonRoot") is not True:
        yield f"{name}: runAsNonRoot"
    if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        yield f"{name}: seccompProfile RuntimeDefault"
    if pod.get("automountServiceAccountToken") is not False:
        yield f"{name}: a service account token it does not use"
    for container in pod["containers"]:
        yield from container_problems(container, f"{name}/{container['name']}")


def container_problems(container: Resource, where: str) -> Iterator[str]:
    security = container.get("securityContext", {})
    if security.get("allowPrivilegeEscalation") is not False:
        yield f"{where}: allowPrivilegeEscalation"
    if security.get("readOnlyRootFilesystem") is not True:
        yield f"{where}: readOnlyRootFilesystem"
    if security.get("capabilities", {}).get("drop") != ["ALL"]:
        yield f"{where}: capabilities not all dropped"
    for probe in ("livenessProbe", "readinessProbe"):
        if container.get(probe, {}).get("httpGet", {}).get("path") != HEALTHY:
            yield f"{where}: {probe} not on {HEALTHY}"
    resources = container.get("resources", {})
    if not {"cpu", "memory"} <= set(resources.get("requests", {})):
        yield f"{where}: no cpu and memory requests"
    if "memory" not in resources.get("limits", {}):
        yield f"{where}: no memory limit"


def test_every_pod_is_hardened():
    assert [p for d in of_kind(all_rendered(), "Deployment") for p in pod_problems(d)] == []


def test_one_image_everywhere():
    images = {
        container["image"]
        for deployment in of_kind(all_rendered(), "Deployment")
        for container in deployment["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1, images


def test_the_probe_exporter_is_two_replicas_behind_a_service():
    resources = rendered(KUBERNETES)
    [deployment] = of_kind(resources, "Deployment")
    [service] = of_kind(resources, "Service")
    [budget] = of_kind(resources, "PodDisruptionBudget")
    [monitor] = of_kind(resources, "ServiceMonitor")
    [probe] = of_kind(resources, "Probe")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == 2
    assert selects(service["spec"]["selector"], pod_labels)
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert selects(budget["spec"]["selector"]["matchLabels"], pod_labels)
    assert budget["spec"]["maxUnavailable"] == 1
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    [port] = service["spec"]["ports"]
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [port["name"]]
    namespace = service["metadata"]["namespace"]
    prober = probe["spec"]["prober"]
    assert prober == {"url": f"ess-exporter.{namespace}.svc:{port['port']}", "path": "/probe"}
    assert probe["spec"]["module"] == "refu"
    assert probe["spec"]["targets"]["staticConfig"]["static"]


def test_job_names_are_those_the_alert_rules_and_the_compose_stack_use():
    """The exporters' own metrics are job ess-exporter (EssExporterDown watches it), the REFUs
    are job refu-probe, as in prometheus/prometheus.yml."""
    jobs = set()
    for directory in KUSTOMIZATIONS:
        resources = rendered(directory)
        pods = [d["spec"]["template"] for d in of_kind(resources, "Deployment")]
        for kind, labelled in (
            ("ServiceMonitor", of_kind(resources, "Service")),
            ("PodMonitor", pods),
        ):
            for monitor in of_kind(resources, kind):
                selector = monitor["spec"]["selector"]["matchLabels"]
                [target] = [r for r in labelled if selects(selector, r["metadata"]["labels"])]
                jobs.add(target["metadata"]["labels"][monitor["spec"]["jobLabel"]])
        jobs |= {probe["spec"]["jobName"] for probe in of_kind(resources, "Probe")}
    assert jobs == {"ess-exporter", "refu-probe"}


def test_the_prometheus_rule_is_made_from_the_current_rule_file():
    assert PROMETHEUS_RULE.read_text(encoding="utf-8") == prometheus_rule(
        RULES.read_text(encoding="utf-8")
    ), f"{name_of(PROMETHEUS_RULE)} is stale; regenerate it with: {REGENERATE}"


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=name_of)
def test_every_install_carries_the_alert_rules_where_the_example_prometheus_finds_them(
    directory: Path,
):
    """The groups of ess.yml, exactly, labelled as the sharding page's Prometheus selects."""
    [rule] = of_kind(rendered(directory), "PrometheusRule")
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    assert rule["spec"]["groups"] == groups
    [prometheus] = [
        doc
        for path in DOC_EXAMPLES
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc and doc["kind"] == "Prometheus"
    ]
    assert selects(prometheus["spec"]["ruleSelector"]["matchLabels"], rule["metadata"]["labels"])
    assert prometheus["spec"]["ruleNamespaceSelector"] == {}, "rules of other namespaces"


def accounts(resources: tuple[Resource, ...]) -> list[Resource]:
    return [
        d
        for d in of_kind(resources, "Deployment")
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "ecoflow"
    ]


def volume_sources(deployment: Resource) -> dict[str, str]:
    """Volume name -> the ConfigMap or Secret it mounts."""
    return {
        v["name"]: v.get("configMap", {}).get("name") or v.get("secret", {}).get("secretName")
        for v in deployment["spec"]["template"]["spec"]["volumes"]
        if "configMap" in v or "secret" in v
    }


@pytest.mark.parametrize(
    ("overlay", "count"), [("ecoflow", 1), ("second-account", 2)], ids=["ecoflow", "second"]
)
def test_each_ecoflow_account_has_its_own_deployment_secret_and_podmonitor(
    overlay: str, count: int
):
    resources = rendered(KUBERNETES / "overlays" / overlay)
    deployments = accounts(resources)
    assert len(deployments) == count
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    monitors = of_kind(resources, "PodMonitor")
    for deployment in deployments:
        spec = deployment["spec"]
        assert (spec["replicas"], spec["strategy"]) == (1, {"type": "Recreate"})
        sources = volume_sources(deployment)
        assert ("ConfigMap", sources["config"]) in names
        assert ("Secret", sources["secrets"]) in names
        labels = spec["template"]["metadata"]["labels"]
        own = [m for m in monitors if selects(m["spec"]["selector"]["matchLabels"], labels)]
        assert len(own) == 1, f"{deployment['metadata']['name']}: {len(own)} PodMonitors"
    secrets = {volume_sources(d)["secrets"] for d in deployments}
    assert len(secrets) == count, "accounts share a Secret"


def test_the_second_account_overlay_adds_one_account_and_changes_nothing_else():
    first = rendered(KUBERNETES / "overlays" / "ecoflow")
    second = rendered(KUBERNETES / "overlays" / "second-account")
    assert all(resource in second for resource in first)
    added = [r for r in second if r not in first]
    assert {r["metadata"]["labels"]["ess-exporter/account"] for r in added} == {"garage"}


def mounted_files(resources: tuple[Resource, ...], deployment: Resource) -> dict[str, str]:
    """The files a Deployment's container sees from its ConfigMaps and Secrets, by path."""
    by_name = {(r["kind"], r["metadata"]["name"]): r for r in resources}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    files = {}
    for mount in deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = by_name["ConfigMap", volume["configMap"]["name"]]["data"]
        elif "secret" in volume:
            encoded = by_name["Secret", volume["secret"]["secretName"]]["data"]
            data = {k: base64.b64decode(v).decode() for k, v in encoded.items()}
        else:
            continue
        files |= {f"{mount['mountPath']}/{key}": value for key, value in data.items()}
    return files


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=name_of)
def test_every_configuration_passes_check_config(directory: Path, tmp_path: Path):
    """Each Deployment's config.yml, with its mounted files laid out under ``tmp_path``."""
    resources = rendered(directory)
    for deployment in of_kind(resources, "Deployment"):
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        config_path = args[args.index("--config") + 1]
        files = mounted_files(resources, deployment)
        root = tmp_path / deployment["metadata"]["name"]
        for path, content in files.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content.replace("/etc/", f"{root}/etc/"))
        status, errors = run_command("check-config", str(root / config_path.lstrip("/")))
        assert status == 0, f"{deployment['metadata']['name']}: {errors}"

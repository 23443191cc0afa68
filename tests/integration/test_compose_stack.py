"""The compose stack: valid for the Compose Specification in both profiles, every device read
by one job only, and nothing pointing at a simulator unless the simulators profile runs."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from exporter.config import parse_address
from exporter.configfile import Config, load_config
from exporter.modbus.config import DEFAULT_MODBUS_PORT
from exporter.refu.channels import load_refu_mapping
from tests.support.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "prometheus" / "prometheus.yml"
#: The Compose Specification's published schema, as check-jsonschema ships it (its licence
#: beside it in the package: licenses/LICENSE.compose-spec).
COMPOSE_SCHEMA = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
EXPORTER_CONFIG = "/etc/ess-exporter/config.yml"
SIMULATORS = "simulators"
PROFILES = [None, SIMULATORS]


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def in_profile(compose: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The compose model as ``docker compose [--profile P]`` runs it: services of that profile."""
    model = copy.deepcopy(compose)
    model["services"] = {
        name: service
        for name, service in compose["services"].items()
        if not service.get("profiles") or profile in service["profiles"]
    }
    return model


def schema_errors(document: Any) -> list[str]:
    schema = yaml.safe_load(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document))


@pytest.mark.parametrize("profile", PROFILES, ids=str)
def test_compose_file_is_valid_for_the_compose_specification(profile):
    model = in_profile(read_yaml(COMPOSE), profile)
    assert schema_errors(model) == []
    for name, service in model["services"].items():
        assert set(service.get("depends_on", [])) <= set(model["services"]), name


def test_the_schema_check_rejects_a_broken_file():
    broken = read_yaml(COMPOSE)
    broken["services"]["exporter"]["ports"] = "9640:9640"
    broken["services"]["exporter"]["restart"] = ["always"]
    errors = schema_errors(broken)
    assert "['services', 'exporter', 'ports']: '9640:9640' is not of type 'array'" in errors
    assert "['services', 'exporter', 'restart']: ['always'] is not of type 'string'" in errors


def docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return [docker, "compose"] if probe.returncode == 0 else None


@pytest.mark.skipif(docker_compose() is None, reason="docker compose is not installed here")
@pytest.mark.parametrize("profile", PROFILES, ids=str)
def test_docker_compose_accepts_the_file(profile):
    command = [*docker_compose(), "-f", str(COMPOSE)]  # type: ignore[misc]
    if profile:
        command += ["--profile", profile]
    result = subprocess.run(
        [*command, "config", "--quiet"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


# -- which job reads which device


def mounted_config(service: dict[str, Any]) -> Config:
    """The exporter config a compose service runs with."""
    [source] = [
        volume.split(":")[0] for volume in service["volumes"] if f":{EXPORTER_CONFIG}" in volume
    ]
    return load_config(ROOT / source, load_refu_mapping().settings)


def config_devices(config: Config) -> list[str]:
    refu = [f"refu {t.host}:{t.port} unit {t.unit_id}" for t in config.refu.targets]
    sunspec = [f"sunspec {t.host}:{t.port} unit {t.unit_id}" for t in config.sunspec.targets]
    powerocean = config.powerocean.devices if config.powerocean else ()
    return refu + sunspec + [f"powerocean {serial}" for serial in powerocean]


def job_targets(job: dict[str, Any]) -> list[str]:
    """HOST:PORT of every static target and every name the job looks up in DNS."""
    static = [t for group in job.get("static_configs", []) for t in group["targets"]]
    found = [
        f"{name}:{dns['port']}" for dns in job.get("dns_sd_configs", []) for name in dns["names"]
    ]
    return static + found


def job_devices(job: dict[str, Any], services: dict[str, Any]) -> list[str]:
    """A /probe job reads its targets; a /metrics job reads the devices of its exporter's config."""
    if job.get("metrics_path") == "/probe":
        params = job.get("params", {})
        module, unit = params.get("module", ["refu"])[0], params.get("unit_id", ["1"])[0]
        return [
            f"{module} {':'.join(map(str, parse_address(t, DEFAULT_MODBUS_PORT)))} unit {unit}"
            for t in job_targets(job)
        ]
    hosts = [parse_address(target, DEFAULT_MODBUS_PORT)[0] for target in job_targets(job)]
    return [device for host in hosts for device in config_devices(mounted_config(services[host]))]


def devices_read_twice(prometheus: dict[str, Any], compose: dict[str, Any]) -> list[str]:
    reads = Counter(
        device
        for job in prometheus["scrape_configs"]
        for device in job_devices(job, compose["services"])
    )
    return sorted(device for device, jobs in reads.items() if jobs > 1)


def test_no_device_is_read_by_two_jobs():
    prometheus, compose = read_yaml(PROMETHEUS), read_yaml(COMPOSE)
    assert devices_read_twice(prometheus, compose) == []
    everything = [
        device
        for job in prometheus["scrape_configs"]
        for device in job_devices(job, compose["services"])
    ]
    assert sorted(everything) == [
        "powerocean R371ZD1AZH000001",
        "refu refu-simulator:5020 unit 1",
        "sunspec sunspec-simulator:5021 unit 1",
    ]


def test_the_double_reading_check_finds_a_device_in_two_jobs():
    prometheus, compose = read_yaml(PROMETHEUS), read_yaml(COMPOSE)
    [simulators] = [j for j in prometheus["scrape_configs"] if j["job_name"] == SIMULATORS]
    prometheus["scrape_configs"].append({**simulators, "job_name": "again"})
    assert devices_read_twice(prometheus, compose) == ["powerocean R371ZD1AZH000001"]


def test_without_the_simulators_profile_nothing_points_at_a_simulator():
    compose = read_yaml(COMPOSE)
    simulated = set(compose["services"]) - set(in_profile(compose, None)["services"])
    assert simulated == {
        "refu-simulator",
        "sunspec-simulator",
        "mqtt",
        "powerocean-simulator",
        "simulators-exporter",
    }
    prometheus = read_yaml(PROMETHEUS)
    for job in prometheus["scrape_configs"]:
        for group in job.get("static_configs", []):
            hosts = {parse_address(target, DEFAULT_MODBUS_PORT)[0] for target in group["targets"]}
            assert not hosts & simulated, job["job_name"]
        for relabel in job.get("relabel_configs", []):
            replacement = str(relabel.get("replacement", ""))
            assert replacement.split(":")[0] not in simulated, job["job_name"]
    config = mounted_config(compose["services"]["exporter"])
    assert not {t.host for t in (*config.refu.targets, *config.sunspec.targets)} & simulated
    if config.powerocean and config.powerocean.broker:
        assert urlsplit(config.powerocean.broker.url).hostname not in simulated


def test_the_user_file_says_at_its_top_that_it_is_the_one_to_edit():
    head = (ROOT / "examples" / "config.yml").read_text(encoding="utf-8").splitlines()[0]
    assert "THE ONE FILE TO EDIT FOR YOUR DEVICES" in head
    assert "examples/config.yml is the only file to edit" in COMPOSE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["config.yml", "simulators.yml"])
def test_example_configs_pass_check_config(name):
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "check-config", str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_stack_mounts_files_that_exist():
    services = read_yaml(COMPOSE)["services"]
    assert {"exporter", "prometheus", "grafana"} <= set(services)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
    assert f"./examples/config.yml:{EXPORTER_CONFIG}:ro" in services["exporter"]["volumes"]

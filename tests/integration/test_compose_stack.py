"""The compose stack: valid for the Compose Specification in both profiles, every device read
by one job only, nothing pointing at a simulator unless the simulators profile runs, and the
profile's services, run on loopback as the image runs them, serving every simulated device."""

from __future__ import annotations

import copy
import json
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
from exporter.simulate import free_port
from tests.support.mosquitto import Mosquitto
from tests.support.paths import PROJECT_ROOT
from tests.support.polling import until
from tests.support.processes import stop_process
from tests.support.scrape import scrape

ROOT = PROJECT_ROOT
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "prometheus" / "prometheus.yml"
#: The Compose Specification's published schema, as check-jsonschema ships it (its licence
#: beside it in the package: licenses/LICENSE.compose-spec).
COMPOSE_SCHEMA = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
EXPORTER_CONFIG = "/etc/ess-exporter/config.yml"
IMAGE = "ess-exporter:local"
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


def mounted_source(service: dict[str, Any]) -> Path:
    """The file a compose service mounts as its exporter config."""
    [source] = [
        volume.split(":")[0] for volume in service["volumes"] if f":{EXPORTER_CONFIG}" in volume
    ]
    return ROOT / source


def mounted_config(service: dict[str, Any]) -> Config:
    """The exporter config a compose service runs with."""
    return load_config(mounted_source(service), load_refu_mapping().settings)


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


# -- the simulators profile, played on loopback


def test_the_simulators_profile_runs_as_its_services_say(tmp_path):
    """Each service of the simulators profile that runs the image, run as the image would
    run it (the same command line, its mounted config) against a real Mosquitto on loopback:
    the devices the profile simulates are up where prometheus.yml's jobs read them."""
    compose = in_profile(read_yaml(COMPOSE), SIMULATORS)["services"]
    runs_image = sorted(name for name, s in compose.items() if s.get("image") == IMAGE)
    assert runs_image == [
        "exporter",
        "powerocean-simulator",
        "refu-simulator",
        "simulators-exporter",
        "sunspec-simulator",
    ]
    ports = {5020: free_port(), 5021: free_port()}
    listen = {"exporter": free_port(), "simulators-exporter": free_port()}
    probe = f"http://127.0.0.1:{listen['exporter']}/probe"
    reads = {  # job -> its URL and its up series
        "refu-probe": (f"{probe}?module=refu&target=127.0.0.1:{ports[5020]}", "refu_up"),
        "sunspec-probe": (f"{probe}?module=sunspec&target=127.0.0.1:{ports[5021]}", "sunspec_up"),
        "simulators": (
            f"http://127.0.0.1:{listen['simulators-exporter']}/metrics",
            "powerocean_up",
        ),
    }
    processes = {}
    with Mosquitto(tmp_path / "mqtt") as broker:
        try:
            for name in runs_image:
                argv = [on_loopback(a, ports, broker) for a in image_command(compose[name])]
                if argv[0] == "run":
                    config = tmp_path / f"{name}.yml"
                    text = mounted_source(compose[name]).read_text(encoding="utf-8")
                    config.write_text(on_loopback(text, ports, broker), encoding="utf-8")
                    argv[argv.index(EXPORTER_CONFIG)] = str(config)
                    argv += ["--web.listen-address", f"127.0.0.1:{listen[name]}"]
                log = (tmp_path / f"{name}.log").open("wb")
                command = [sys.executable, "-m", "exporter", *argv]
                processes[name] = subprocess.Popen(command, stdout=log, stderr=log, cwd=ROOT)
            until(lambda: all(up_in(url, up) == 1 for url, up in reads.values()), timeout=30)
            exited = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            results = {} if exited else {job: scrape(url) for job, (url, _) in reads.items()}
        finally:
            for process in processes.values():
                stop_process(process)
    logs = "\n".join(
        f"{p.name}:\n{p.read_text(errors='replace')[-1500:]}" for p in tmp_path.glob("*.log")
    )
    assert exited == {}, logs
    assert {job: result.values(reads[job][1]) for job, result in results.items()} == {
        "refu-probe": [1],
        "sunspec-probe": [1],
        "simulators": [1],
    }, logs
    assert results["refu-probe"].value("refu_battery_voltage_volts") > 0
    assert results["sunspec-probe"].has("sunspec_model_info")
    assert results["simulators"].value("powerocean_up", serial="R371ZD1AZH000001") == 1
    assert results["simulators"].has("powerocean_battery_pack_cycles_total")


def image_command(service: dict[str, Any]) -> list[str]:
    """What the service's container runs: its command, else the image's (Dockerfile CMD)."""
    if "command" in service:
        return list(service["command"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    [default] = [line.removeprefix("CMD ") for line in dockerfile if line.startswith("CMD ")]
    return list(json.loads(default))


def on_loopback(text: str, ports: dict[int, int], broker: Mosquitto) -> str:
    """A container's addresses as a local process reaches them: the profile's broker is
    ``broker``, a simulator listening on ``0.0.0.0:<port>`` is on a free loopback port."""
    for port, local in ports.items():
        text = text.replace(f"0.0.0.0:{port}", f"127.0.0.1:{local}")
    return text.replace("mqtt://mqtt:1883", broker.url)


def up_in(url: str, up: str) -> float | None:
    """The one ``up`` sample ``url`` serves; None before it answers with one."""
    try:
        values = scrape(url).values(up)
    except OSError:
        return None
    return values[0] if len(values) == 1 else None

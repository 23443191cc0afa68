"""The release workflow cannot run here: its syntax and its shape are checked instead, against
the GitHub workflow JSON schema that check-jsonschema ships (SchemaStore's, licence beside it)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import yaml

from tests.support.paths import PROJECT_ROOT

ROOT = PROJECT_ROOT
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
SCHEMA = resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
PLATFORMS = {"linux/amd64", "linux/arm64"}


def workflow() -> dict[str, Any]:
    """The workflow as GitHub reads it: YAML 1.1 makes the key ``on`` a boolean, GitHub does not."""
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in document:
        document["on"] = document.pop(True)
    return document


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document))


def steps_using(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [
        step
        for job in document["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").split("@")[0] == action
    ]


def test_release_workflow_is_valid_for_the_github_workflow_schema():
    assert schema_errors(workflow()) == []


def test_the_schema_check_rejects_a_broken_workflow():
    broken = workflow()
    broken["jobs"]["wheel"]["runs-on"] = 3
    del broken["jobs"]["image"]["steps"]
    assert schema_errors(broken)


def test_it_runs_on_version_tags_only():
    assert workflow()["on"] == {"push": {"tags": ["v*"]}}


def test_it_builds_the_wheel_from_the_tagged_version():
    document = workflow()
    scripts = "\n".join(step.get("run", "") for step in document["jobs"]["wheel"]["steps"])
    assert "python -m build" in scripts
    assert 'test "${GITHUB_REF_NAME}" = "v${version}"' in scripts


def test_it_publishes_the_image_for_amd64_and_arm64_with_the_build_info():
    document = workflow()
    [build] = steps_using(document, "docker/build-push-action")
    assert set(build["with"]["platforms"].split(",")) == PLATFORMS
    assert build["with"]["push"] is True
    assert "REVISION=${{ github.sha }}" in build["with"]["build-args"]
    assert "BRANCH=${{ github.ref_name }}" in build["with"]["build-args"]
    assert steps_using(document, "docker/setup-qemu-action")
    assert steps_using(document, "docker/setup-buildx-action")
    assert document["jobs"]["image"]["permissions"]["packages"] == "write"


def test_every_action_is_pinned_to_a_version():
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert "@v" in step["uses"], step["uses"]

"""The release workflow agrees with the files it builds from and publishes to.

actionlint (run by scripts/test) checks the workflows' syntax, expressions and shell steps;
these tests check what it cannot know: that the image is published where the chart and the
README say, that the Dockerfile declares every build argument the release passes, that the
image carries the OCI keys slimgate reads, and that only the signing and publishing jobs
may ask for an OIDC token. None of this runs the workflow: that happens only on the
hosting CI, on a version tag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
OCI_KEYS = ("source", "version", "revision", "base.name", "base.digest")


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True
    workflow["on"] = workflow.pop(True)
    return workflow


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load("release.yml")


def step(job: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("uses", "").startswith(action + "@")]
    return found


def lines(block: str) -> list[str]:
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit(path: Path) -> None:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        found = re.search(r"uses: (\S+)", line)
        if found is None or found.group(1).startswith("./"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", found.group(1)), (number, line)
        assert re.search(r"# v\d+\.\d+\.\d+$", line), f"line {number} names no release: {line}"


def test_pull_requests_run_the_one_test_command_and_the_release_runs_it_first(
    release: dict[str, Any],
) -> None:
    ci = load("ci.yml")
    assert {"pull_request", "workflow_call"} <= set(ci["on"])
    assert [s["run"] for s in ci["jobs"]["test"]["steps"] if s.get("run") == ".ci/run"]
    assert release["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml"
    for job in ("image", "python"):
        assert "test" in release["jobs"][job]["needs"]


def test_only_the_signing_and_publishing_jobs_get_an_oidc_token(release: dict[str, Any]) -> None:
    assert release["permissions"] == {}
    with_token = {
        name
        for name, job in release["jobs"].items()
        if job.get("permissions", {}).get("id-token") == "write"
    }
    assert with_token == {"image", "chart", "pypi"}
    assert release["jobs"]["pypi"]["permissions"] == {"id-token": "write"}
    assert release["jobs"]["pypi"]["environment"] == "pypi"


def test_the_image_is_published_where_the_chart_points(release: dict[str, Any]) -> None:
    values = yaml.safe_load((REPO_ROOT / "chart/slimgate/values.yaml").read_text())
    image = values["image"]
    assert release["env"]["IMAGE"] == f"{image['registry']}/{image['repository']}"
    readme = (REPO_ROOT / "README.md").read_text()
    chart = f"oci://{release['env']['CHART_REPOSITORY']}/slimgate"
    assert f"helm install slimgate {chart}" in readme


def test_the_image_is_multi_arch_with_sbom_and_provenance(release: dict[str, Any]) -> None:
    build = step(release["jobs"]["image"], "docker/build-push-action")["with"]
    assert build["platforms"] == "linux/amd64,linux/arm64"
    assert build["context"] == "."
    assert build["push"] is True
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"


def test_the_dockerfile_declares_every_build_argument_the_release_passes(
    release: dict[str, Any],
) -> None:
    build = step(release["jobs"]["image"], "docker/build-push-action")["with"]
    passed = {line.split("=", 1)[0] for line in lines(build["build-args"])}
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]
    declared = set(re.findall(r"^ARG (\w+)", runtime, re.M))
    assert passed <= declared
    # the base reaches FROM through the global PYTHON_IMAGE, declared before the first stage
    assert re.search(r"^ARG PYTHON_IMAGE=", dockerfile[: dockerfile.index("\nFROM ")], re.M)
    for key in OCI_KEYS:
        assert re.search(rf'^\s+org\.opencontainers\.image\.{re.escape(key)}="', runtime, re.M)


def test_the_image_index_and_manifests_carry_the_keys_slimgate_reads(
    release: dict[str, Any],
) -> None:
    build = step(release["jobs"]["image"], "docker/build-push-action")["with"]
    annotations = {line.split("=", 1)[0] for line in lines(build["annotations"])}
    assert annotations == {
        f"{level}:org.opencontainers.image.{key}"
        for level in ("index", "manifest")
        for key in OCI_KEYS
    }


def test_the_release_tag_filter_matches_what_the_release_accepts(release: dict[str, Any]) -> None:
    (pattern,) = release["on"]["push"]["tags"]
    assert pattern == "v[0-9]+.[0-9]+.[0-9]+"

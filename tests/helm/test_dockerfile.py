"""slimgate's own image follows the advice slimgate gives, and matches the chart.

The Dockerfile is checked with slimgate itself (``slimgate lint``, the same
engine the webhook runs) and structurally: a wheel-building stage, a slim
runtime stage that only installs those wheels, the chart's UID, OCI labels.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.dockerfile_model import Dockerfile, Stage
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.chart import CHART, REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE.read_text())


def instructions(stage: Stage, keyword: str) -> list[str]:
    return [i.value for i in stage.instructions if i.keyword == keyword]


def slimgate_lint(dockerfile: Path) -> tuple[int, dict[str, Any]]:
    """Run `slimgate lint -o json` as a user would; return its exit code and report."""
    # the console script of the environment under test, not whichever is first on PATH
    executable = Path(sys.executable).with_name("slimgate")
    assert executable.is_file(), "the slimgate console script is not installed"
    result = subprocess.run(
        [executable, "lint", "--output", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def test_slimgate_lint_passes_its_own_dockerfile() -> None:
    """`slimgate lint Dockerfile` exits 0 with no deny finding."""
    code, report = slimgate_lint(DOCKERFILE)
    assert code == 0, report
    (result,) = report["results"]
    assert result["decision"] == "allow"
    assert [f for f in result["findings"] if f["action"] == "deny"] == []


def test_slimgate_lint_refuses_a_single_stage_build(tmp_path: Path) -> None:
    """The same command fails for the image slimgate exists to stop (the check can fail)."""
    single_stage = tmp_path / "Dockerfile"
    single_stage.write_text(
        'FROM golang:1.23\nCOPY . .\nRUN go build -o /app .\nENTRYPOINT ["/app"]\n'
    )
    code, report = slimgate_lint(single_stage)
    (result,) = report["results"]
    assert code != 0
    assert result["decision"] == "deny"
    assert "toolchain-base" in {f["rule"] for f in result["findings"] if f["action"] == "deny"}


def test_the_lint_engine_finds_nothing(dockerfile: Dockerfile) -> None:
    analysis = lint(dockerfile)
    assert analysis.findings == ()
    assert analysis.base is not None
    assert analysis.base.name == "python (slim)"


def test_build_stage_makes_wheels_and_runtime_installs_only_them(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) == 3
    plugins, build, runtime = dockerfile.stages
    assert plugins.name == "plugins"
    assert build.name == "build"
    assert build.base.startswith("python:3.11-")
    build_runs = " ".join(instructions(build, "RUN"))
    assert "pip wheel --no-deps --wheel-dir /wheels ." in build_runs
    assert "pip wheel --wheel-dir /wheels /wheels/slimgate-" in build_runs  # dependency wheels

    assert runtime.base.startswith("python:3.11-")
    assert "slim" in runtime.base
    (install,) = instructions(runtime, "RUN")
    assert "--mount=type=bind,from=build,source=/wheels" in install
    assert "pip install --no-cache-dir --no-index --find-links /wheels slimgate" in install
    for tool in ("gcc", "build-essential", "apt-get install", "pip wheel"):
        assert tool not in install
    # Nothing from the build context or the build stage is copied into the runtime; from
    # the plugins stage, only the one binary.
    assert instructions(runtime, "COPY") == [
        "--from=plugins /out/ecr-credential-provider /usr/local/lib/slimgate/credential-providers/"
    ]
    assert instructions(runtime, "ADD") == []


def test_the_plugin_stage_builds_the_ecr_plugin_where_the_chart_looks(
    dockerfile: Dockerfile,
) -> None:
    plugins = dockerfile.stages[0]
    assert plugins.base.startswith("golang:")
    (build,) = instructions(plugins, "RUN")
    assert "k8s.io/cloud-provider-aws@" in build
    assert "go build" in build
    assert "./cmd/ecr-credential-provider" in build
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["credentialProviders"]["binDir"] == "/usr/local/lib/slimgate/credential-providers"


def test_runtime_runs_as_the_chart_uid_with_slimgate_as_entrypoint(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stages[-1]
    (user,) = instructions(runtime, "USER")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert (
        user
        == f"{values['securityContext']['runAsUser']}:{values['securityContext']['runAsGroup']}"
    )
    assert user.split(":")[0] == str(values["podSecurityContext"]["runAsUser"])
    assert instructions(runtime, "ENTRYPOINT") == ['["slimgate"]']
    (expose,) = instructions(runtime, "EXPOSE")
    assert expose == str(values["webhook"]["port"])


def test_runtime_has_oci_labels(dockerfile: Dockerfile) -> None:
    labels = " ".join(instructions(dockerfile.stages[-1], "LABEL"))
    for key in ("source", "licenses", "title", "version"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert 'org.opencontainers.image.source="https://github.com/slimgate/slimgate"' in labels


def test_dockerignore_sends_only_what_the_wheel_needs() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # deny everything, then allow
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "LICENSE", "src/"}
    for path in allowed:
        assert not Path(path).is_absolute()

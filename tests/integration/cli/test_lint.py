"""``slimgate lint`` as a subprocess: the final stage, the same JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.cli.command import slimgate
from tests.support.complex_images import repeated_step_dockerfile

SINGLE_STAGE = """\
FROM golang:1.23
WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/app ./cmd/app
CMD ["app"]
"""

MULTI_STAGE = """\
FROM golang:1.23 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /app ./cmd/app

FROM gcr.io/distroless/static-debian12
COPY --from=build /app /app
ENTRYPOINT ["/app"]
"""

JDK_RUNTIME = """\
ARG JAVA=21
FROM eclipse-temurin:${JAVA}-jdk
COPY target/app.jar /app.jar
CMD ["java", "-jar", "/app.jar"]
"""


def write(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_single_stage_toolchain_dockerfile_is_denied(tmp_path: Path) -> None:
    path = write(tmp_path, SINGLE_STAGE)
    run = slimgate("lint", "--output", "json", path)
    assert run.returncode == 1, run.stderr
    (result,) = run.json()["results"]
    assert result["image"] == str(path)
    assert result["digest"] is None
    assert result["compressed_size"] is None
    assert result["error"] is None
    assert result["decision"] == "deny"
    rules = {f["rule"] for f in result["findings"]}
    assert "toolchain-base" in rules
    assert "build-in-final-image" in rules


def test_multi_stage_dockerfile_is_allowed(tmp_path: Path) -> None:
    run = slimgate("lint", "-o", "json", write(tmp_path, MULTI_STAGE))
    assert run.returncode == 0, run.stderr
    (result,) = run.json()["results"]
    assert result["decision"] == "allow"
    assert result["findings"] == []


def test_borderline_base_warns_and_build_args_reach_from(tmp_path: Path) -> None:
    path = write(tmp_path, JDK_RUNTIME)
    run = slimgate("lint", "-o", "json", "--build-arg", "JAVA=17", path)
    assert run.returncode == 0, run.stderr
    (result,) = run.json()["results"]
    assert result["decision"] == "warn"
    assert [f["rule"] for f in result["findings"]] == ["jdk-runtime"]
    assert "17-jdk" in result["base"]["evidence"]


def test_same_policy_as_check(tmp_path: Path) -> None:
    config = write(tmp_path, "policy:\n  rules:\n    jdk-runtime: deny\n", "slimgate.yaml")
    run = slimgate("lint", "-o", "json", "-c", config, write(tmp_path, JDK_RUNTIME))
    assert run.returncode == 1
    assert run.json()["results"][0]["decision"] == "deny"


def test_default_is_the_dockerfile_in_the_current_directory(tmp_path: Path) -> None:
    write(tmp_path, SINGLE_STAGE)
    run = slimgate("lint", "-o", "json", cwd=tmp_path)
    assert run.returncode == 1
    assert run.json()["results"][0]["image"] == "Dockerfile"


def test_table_output(tmp_path: Path) -> None:
    run = slimgate("lint", write(tmp_path, SINGLE_STAGE))
    assert run.returncode == 1
    assert "DENY" in run.stdout
    assert "toolchain-base" in run.stdout


def test_missing_dockerfile_exits_2(tmp_path: Path) -> None:
    run = slimgate("lint", tmp_path / "Dockerfile")
    assert run.returncode == 2
    assert "cannot read" in run.stderr


def test_dockerfile_without_from_exits_2(tmp_path: Path) -> None:
    run = slimgate("lint", write(tmp_path, "RUN echo hi\n"))
    assert run.returncode == 2
    assert run.stderr.strip()


def test_a_dockerfile_past_the_limits_is_too_complex_with_bounded_output(tmp_path: Path) -> None:
    run = slimgate("lint", "-o", "json", write(tmp_path, repeated_step_dockerfile()))
    assert run.returncode == 2, run.stderr
    assert "too complex to analyse: 59,871 instructions in the final stage" in run.stderr
    assert len(run.stdout) < 5_000
    (result,) = run.json()["results"]
    assert [f["rule"] for f in result["findings"]] == ["too-complex"]


def test_a_long_dockerfile_under_the_limits_reports_ten_findings_per_rule(tmp_path: Path) -> None:
    run = slimgate("lint", "-o", "json", write(tmp_path, repeated_step_dockerfile(count=500)))
    assert run.returncode == 1, run.stderr
    (result,) = run.json()["results"]
    messages = [f["message"] for f in result["findings"] if f["rule"] == "toolchain-installed"]
    assert len(messages) == 11
    assert messages[-1] == "and 490 more toolchain-installed findings"


def test_a_dockerfile_over_the_size_cap_is_not_read_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "FROM debian\n" + "# padding\n" * 450_000)
    run = slimgate("lint", "-o", "json", path)
    assert run.returncode == 2, run.stderr
    assert "the Dockerfile is longer than 4,194,304 characters" in run.stderr
    (result,) = run.json()["results"]
    assert [f["rule"] for f in result["findings"]] == ["too-complex"]


def test_a_denied_dockerfile_points_at_slimgate_fix(tmp_path: Path) -> None:
    path = write(tmp_path, SINGLE_STAGE)
    run = slimgate("lint", path)
    assert run.returncode == 1
    assert f"`slimgate fix {path}` writes the multi-stage build" in run.stderr
    clean = slimgate("lint", write(tmp_path, MULTI_STAGE, "clean.Dockerfile"))
    assert "slimgate fix" not in clean.stderr


def test_lint_does_not_promise_a_fix_that_fix_refuses(tmp_path: Path) -> None:
    """A final stage that is still a toolchain in a multi-stage file is left to its author
    by `slimgate fix`; lint says so instead of pointing at it."""
    path = write(
        tmp_path,
        "FROM golang:1.23 AS build\nRUN go build -o /app .\n"
        'FROM golang:1.23\nCOPY --from=build /app /app\nCMD ["/app"]\n',
    )
    run = slimgate("lint", path)
    assert "writes the multi-stage build" not in run.stderr
    assert "`slimgate fix` writes no fix for it: already multi-stage" in run.stderr
    fixed = slimgate("fix", path)
    assert fixed.returncode == 2


def test_a_dockerfile_that_would_not_build_gets_notes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'ARG PACKAGES="g++ make"\nFROM 8.2.10-fpm-alpine3.18\nRUNN echo hi\n'
        "COPY {{ .Source }} /src\nRUN apk add --no-cache $PACKAGES\n",
    )
    run = slimgate("lint", path)
    assert run.returncode == 0, run.stderr  # notes change no decision
    notes = [line for line in run.stdout.splitlines() if line.lstrip().startswith("note: ")]
    assert len(notes) == 4, run.stdout
    assert "line 2: FROM 8.2.10-fpm-alpine3.18 names no image" in notes[0]
    assert "line 3: unknown instruction RUNN" in notes[1]
    assert "line 4: COPY holds a template placeholder {{ .Source }}" in notes[2]
    assert "line 5: $PACKAGES is a global ARG" in notes[3]
    as_json = json.loads(slimgate("lint", "--output", "json", path).stdout)
    (result,) = as_json["results"]
    assert [note.split(":", 1)[0] for note in result["notes"]] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
    ]

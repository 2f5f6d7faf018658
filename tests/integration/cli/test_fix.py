"""``slimgate fix`` as a subprocess: the diff, --write, JSON, exit codes, awkward input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slimgate.cli.fix import write_atomically
from tests.integration.cli.command import slimgate
from tests.support.fix_cases import ROOT, Case, cases

GO = ROOT / "go-api" / "Dockerfile"
REPOSITORY = Path(__file__).resolve().parents[3]


def project(tmp_path: Path, name: str = "go-api") -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / name, target)
    return target / "Dockerfile"


def test_the_diff_applies_with_patch_and_gives_the_fix(tmp_path: Path) -> None:
    dockerfile = project(tmp_path)
    run = slimgate("fix", "Dockerfile", cwd=dockerfile.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# slimgate fix: go: build on golang:${GO_VERSION}")
    assert "# estimate (compressed): ~297 MB → ~2 MB" in run.stdout
    patched = subprocess.run(
        ["patch", "-p0", "--quiet"],
        input=run.stdout,
        text=True,
        cwd=dockerfile.parent,
        capture_output=True,
        check=False,
    )
    assert patched.returncode == 0, patched.stderr
    json_run = slimgate("fix", "-o", "json", GO)
    assert dockerfile.read_text() == json.loads(json_run.stdout)["text"]


def test_write_keeps_a_backup_and_lint_then_allows_it(tmp_path: Path) -> None:
    dockerfile = project(tmp_path)
    original = dockerfile.read_text()
    run = slimgate("fix", "--write", dockerfile)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "wrote" in run.stderr
    assert (dockerfile.parent / "Dockerfile.orig").read_text() == original
    assert "AS build" in dockerfile.read_text()
    assert not list(dockerfile.parent.glob(".Dockerfile.*.tmp"))
    again = slimgate("fix", dockerfile)
    assert again.returncode == 0
    assert "already multi-stage" in again.stderr


def test_no_backup(tmp_path: Path) -> None:
    dockerfile = project(tmp_path)
    assert slimgate("fix", "--write", "--no-backup", dockerfile).returncode == 0
    assert not (dockerfile.parent / "Dockerfile.orig").exists()


@pytest.mark.parametrize("case", cases(), ids=[c.name for c in cases()])
def test_slimgate_lint_denies_nothing_in_the_fix(case: Case, tmp_path: Path) -> None:
    dockerfile = project(tmp_path, case.name)
    options = [f"--{k.replace('_', '-')}={v}" for k, v in case.meta["options"].items()]
    assert slimgate("fix", "--write", *options, dockerfile).returncode == 0
    linted = slimgate("lint", "-o", "json", dockerfile)
    assert linted.returncode == 0, linted.stdout
    assert linted.json()["results"][0]["decision"] in ("allow", "warn")


def test_json_has_stages_and_estimate() -> None:
    run = slimgate("fix", "-o", "json", GO)
    data = run.json()
    assert data["status"] == "fixed"
    assert [s["name"] for s in data["stages"]] == ["build", None]
    assert data["estimate"]["before"] == 296751328 + data["estimate"]["before_parts"][1]["size"]
    assert data["estimate"]["after"] == 2 * 1024 * 1024


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    run = slimgate("fix", tmp_path / "Dockerfile")
    assert run.returncode == 2
    assert "no such file" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfeF\x00R\x00", "not UTF-8"),
        (b"RUN echo hi\n", "no FROM"),
        (b"", "no FROM"),
    ],
)
def test_unreadable_or_unparseable_input(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    run = slimgate("fix", "--write", path)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert path.read_bytes() == content


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    dockerfile = project(tmp_path)
    text = dockerfile.read_text()
    dockerfile.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    run = slimgate("fix", "--write", dockerfile)
    assert run.returncode == 0, run.stderr
    written = dockerfile.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf# syntax=docker/dockerfile:1\r\n")
    assert b"\n" not in written.replace(b"\r\n", b"")
    assert b"FROM gcr.io/distroless/static-debian12:nonroot\r\n" in written


def test_heredoc_and_mount_flags_are_kept_verbatim(tmp_path: Path) -> None:
    dockerfile = project(tmp_path, "go-heredoc")
    assert slimgate("fix", "--write", dockerfile).returncode == 0
    text = dockerfile.read_text()
    heredoc = (
        "--mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build"
        " <<EOF\nset -e\ngo vet ./...\ngo build -o /out/myapp .\nEOF\n"
    )
    assert heredoc in text
    assert "COPY --from=build /out/myapp /out/myapp" in text


def test_missing_information_names_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build ./...\nCMD ./start.sh\n"
    )
    run = slimgate("fix", "--write", path)
    assert run.returncode == 2
    assert "--artifact" in run.stderr
    assert "AS build" not in path.read_text()
    given = slimgate("fix", "--artifact", "/src/app", "--start", '["/src/app"]', path)
    assert given.returncode == 0, given.stderr
    assert '+CMD ["/src/app"]' in given.stdout


def test_nuxt_without_package_json_asks_for_the_output_dir(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npx nuxt build\nCMD npx nuxt start\n"
    )
    run = slimgate("fix", path)
    assert run.returncode == 2
    assert "--output-dir" in run.stderr
    fixed = slimgate("fix", "--output-dir", ".output", path)
    assert fixed.returncode == 0
    assert '+CMD ["node", "/app/.output/server/index.mjs"]' in fixed.stdout


def test_clean_and_multi_stage_are_left_alone(tmp_path: Path) -> None:
    clean = tmp_path / "clean.Dockerfile"
    clean.write_text(
        "FROM node:20-alpine\nENV NODE_ENV=production\nCOPY .next/standalone ./\n"
        'CMD ["node", "server.js"]\n'
    )
    run = slimgate("fix", clean)
    assert run.returncode == 0
    assert "nothing to fix" in run.stderr
    assert run.stdout == ""
    final_toolchain = tmp_path / "final.Dockerfile"
    final_toolchain.write_text(
        "FROM golang:1.22 AS build\nRUN go version\nFROM golang:1.22\n"
        "COPY --from=build /x /x\nRUN go build -o /app .\n"
    )
    refused = slimgate("fix", final_toolchain)
    assert refused.returncode == 2
    assert "already multi-stage" in refused.stderr


def test_an_interrupted_write_leaves_the_original(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM golang:1.22\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "FROM scratch\n\udcff")  # cannot be encoded: fails mid-write
    assert path.read_text() == "FROM golang:1.22\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def _run(command: list[str], repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_pre_commit_hooks_run_under_pre_commit(tmp_path: Path) -> None:
    """The hooks of .pre-commit-hooks.yaml (entries, file patterns, stages), run by the real
    pre-commit from a local configuration so that nothing is fetched."""
    tools = Path(sys.executable).parent
    pre_commit = tools / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (pip install -e .[test])")
    hooks = yaml.safe_load((REPOSITORY / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["slimgate-lint", "slimgate-fix"]
    assert hooks[1]["stages"] == ["manual"]
    local = [{**hook, "entry": f"{tools}/{hook['entry']}", "language": "system"} for hook in hooks]
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "go-api", repo)
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]})
    )
    git = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    env = {
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
        "PATH": f"{tools}:/usr/bin:/bin",
    }
    assert _run([*git, "init", "-q"], repo, env).returncode == 0
    assert _run([*git, "add", "."], repo, env).returncode == 0
    denied = _run([str(pre_commit), "run", "--all-files"], repo, env)
    assert denied.returncode == 1, denied.stdout
    assert "slimgate lint" in denied.stdout
    assert "Failed" in denied.stdout
    assert "AS build" not in (repo / "Dockerfile").read_text()  # manual stage: not on commit
    assert "`slimgate fix Dockerfile` writes the multi-stage build" in denied.stdout
    fixed = _run(
        [str(pre_commit), "run", "--hook-stage", "manual", "slimgate-fix", "--all-files"], repo, env
    )
    assert "AS build" in (repo / "Dockerfile").read_text(), fixed.stdout
    assert _run([*git, "add", "."], repo, env).returncode == 0
    allowed = _run([str(pre_commit), "run", "slimgate-lint", "--all-files"], repo, env)
    assert allowed.returncode == 0, allowed.stdout

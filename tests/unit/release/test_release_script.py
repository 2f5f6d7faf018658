"""scripts/release.py: which tags are releases, what a stamp changes, which notes are published.

The script runs as the release workflow runs it (``python3 scripts/release.py …``), on a
copy of the repository's own files, so a change to Chart.yaml or values.yaml that the
stamp no longer matches fails here rather than in a release.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import slimgate

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "release.py"
STAMPED = ("src/slimgate/__init__.py", "chart/slimgate/Chart.yaml", "chart/slimgate/values.yaml")
DIGEST = "sha256:" + hashlib.sha256(b"an image index").hexdigest()


def release(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files a stamp edits, copied from the repository."""
    for name in STAMPED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def changed_lines(tree: Path, name: str) -> list[tuple[str, str]]:
    """(old, new) for every line a stamp changed in ``name``."""
    old = (REPO_ROOT / name).read_text().splitlines()
    new = (tree / name).read_text().splitlines()
    pairs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            # a stamp replaces lines one for one; it never adds or removes one
            assert tag == "replace", (tag, old[i1:i2], new[j1:j2])
            assert i2 - i1 == j2 - j1, (old[i1:i2], new[j1:j2])
            pairs += list(zip(old[i1:i2], new[j1:j2], strict=True))
    return pairs


@pytest.mark.parametrize(("tag", "version"), [("v1.2.3", "1.2.3"), ("0.10.0", "0.10.0")])
def test_a_release_tag_names_its_version(tag: str, version: str) -> None:
    run = release("version", tag)
    assert (run.returncode, run.stdout) == (0, f"{version}\n")


@pytest.mark.parametrize("tag", ["v1.2", "v1.2.3-rc.1", "v01.2.3", "main", "v1.2.3 ", ""])
def test_anything_else_is_refused_in_one_line(tag: str) -> None:
    run = release("version", tag)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert "expected vMAJOR.MINOR.PATCH" in run.stderr


def test_stamp_changes_the_version_lines_and_the_image_digest_only(tree: Path) -> None:
    run = release("stamp", "v9.8.7", "--image-digest", DIGEST, "--root", tree)
    assert run.returncode == 0, run.stderr
    init, chart, values = (changed_lines(tree, name) for name in STAMPED)
    assert [new for _, new in init] == ['__version__ = "9.8.7"']
    assert [new.strip() for _, new in chart] == [
        "version: 9.8.7",
        'appVersion: "9.8.7"',
        f"image: ghcr.io/slimgate/slimgate:9.8.7@{DIGEST}",
    ]
    assert [new for _, new in values] == [f'  digest: "{DIGEST}"']
    parsed = yaml.safe_load((tree / "chart/slimgate/values.yaml").read_text())
    assert parsed["image"]["digest"] == DIGEST
    assert "digest" not in parsed["test"]["image"]


def test_stamp_without_a_digest_leaves_the_image_to_the_tag(tree: Path) -> None:
    assert release("stamp", "v9.8.7", "--root", tree).returncode == 0
    assert changed_lines(tree, "chart/slimgate/values.yaml") == []
    chart = yaml.safe_load((tree / "chart/slimgate/Chart.yaml").read_text())
    assert (chart["version"], chart["appVersion"]) == ("9.8.7", "9.8.7")


@pytest.mark.parametrize("digest", ["sha256:abc", "sha512:" + "0" * 128, DIGEST.upper()])
def test_stamp_refuses_a_bad_digest_and_writes_nothing(tree: Path, digest: str) -> None:
    run = release("stamp", "v9.8.7", "--image-digest", digest, "--root", tree)
    assert run.returncode == 2
    assert "is not an image digest" in run.stderr
    for name in STAMPED:
        assert (tree / name).read_bytes() == (REPO_ROOT / name).read_bytes()


def test_stamp_writes_nothing_when_one_file_no_longer_matches(tree: Path) -> None:
    values = tree / "chart/slimgate/values.yaml"
    # the image block without its digest key, as after a rename the stamp does not know
    values.write_text(values.read_text().replace('  digest: ""\n', "", 1))
    before = values.read_bytes()
    run = release("stamp", "v9.8.7", "--image-digest", DIGEST, "--root", tree)
    assert run.returncode == 2
    assert "values.yaml: expected one line matching" in run.stderr
    assert values.read_bytes() == before
    for name in STAMPED[:2]:
        assert (tree / name).read_bytes() == (REPO_ROOT / name).read_bytes()


def test_the_tree_has_one_version(tmp_path: Path) -> None:
    """The package, the chart and the chart's image annotation name the same version."""
    chart = yaml.safe_load((REPO_ROOT / "chart/slimgate/Chart.yaml").read_text())
    images = yaml.safe_load(chart["annotations"]["artifacthub.io/images"])
    slimgate_image = next(i["image"] for i in images if i["name"] == "slimgate")
    assert chart["version"] == chart["appVersion"] == slimgate.__version__
    assert slimgate_image == f"ghcr.io/slimgate/slimgate:{slimgate.__version__}"
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(slimgate.__version__)}\]", changelog, re.M)


CHANGELOG = """# Changelog

## [1.1.0] - 2031-02-03

### Fixed

- the second thing

## [1.0.0] - 2031-01-02

- the first thing

## [0.9.0] - Unreleased

- never shipped
"""


@pytest.mark.parametrize(
    ("tag", "body"),
    [("v1.1.0", "### Fixed\n\n- the second thing\n"), ("v1.0.0", "- the first thing\n")],
)
def test_notes_are_the_section_of_the_tagged_version(tmp_path: Path, tag: str, body: str) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    run = release("notes", tag, "--changelog", tmp_path / "CHANGELOG.md")
    assert (run.returncode, run.stdout) == (0, body)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("v2.0.0", "has no section '## [2.0.0] - YYYY-MM-DD'"),
        ("v0.9.0", "the section of 0.9.0 has no release date"),
    ],
)
def test_notes_refuse_a_missing_or_undated_section(tmp_path: Path, tag: str, message: str) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    run = release("notes", tag, "--changelog", tmp_path / "CHANGELOG.md")
    assert run.returncode == 2
    assert run.stdout == ""
    assert message in run.stderr

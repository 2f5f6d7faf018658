"""The wheel and sdist as the release builds them, installed where the source is not.

The release stamps the tag's version (``scripts/release.py stamp``) and runs
``python -m build``; this does the same to a copy of the source with version 9.8.7, installs
the wheel into a new virtual environment and runs the ``slimgate`` it put there. ``build``
makes the sdist first and the wheel from the unpacked sdist, so a file missing from the
sdist shows up as a broken wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.cli.images import GOLANG_APP, SMALL_APP
from tests.support.images import build_image, write_oci_layout

REPO_ROOT = Path(__file__).resolve().parents[3]
VERSION = "9.8.7"
# what the distributions are built from, and the chart, which the stamp also edits
SOURCE = ("pyproject.toml", "README.md", "LICENSE", "src", "chart")

pytestmark = pytest.mark.timeout(900)


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    venv: Path

    def slimgate(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        """The installed console script, away from the source tree and its PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        return subprocess.run(
            [str(self.venv / "bin" / "slimgate"), *map(str, args)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            cwd=cwd,
            env=env,
        )


def run(*args: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run(
        [*map(str, args)], capture_output=True, text=True, check=False, timeout=600, cwd=cwd
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    work = tmp_path_factory.mktemp("dists")
    tree = work / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCE:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            tree.mkdir(exist_ok=True)
            shutil.copy(source, tree / name)
    run(
        sys.executable, REPO_ROOT / "scripts" / "release.py", "stamp", f"v{VERSION}", "--root", tree
    )
    run(sys.executable, "-m", "build", "--outdir", work / "dist", tree)
    (sdist,) = (work / "dist").glob("*.tar.gz")
    (wheel,) = (work / "dist").glob("*.whl")
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel)
    return Dists(sdist, wheel, venv)


def test_the_distributions_carry_the_stamped_version(dists: Dists) -> None:
    assert dists.sdist.name == f"slimgate-{VERSION}.tar.gz"
    assert dists.wheel.name == f"slimgate-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"slimgate-{VERSION}.dist-info/METADATA").decode()
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "slimgate/py.typed" in names
    assert any(n.startswith("slimgate/defaults/") and n.endswith(".yaml") for n in names)
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(dists.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "LICENSE", "src/slimgate/__init__.py"} <= members


def test_the_installed_slimgate_reports_the_stamped_version(dists: Dists, tmp_path: Path) -> None:
    result = dists.slimgate("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"slimgate {VERSION}\n")
    # and it is the wheel's copy that runs, not the source tree's
    where = subprocess.run(
        [str(dists.venv / "bin" / "python"), "-c", "import slimgate; print(slimgate.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(where).is_relative_to(dists.venv), where


def test_the_installed_slimgate_checks_an_oci_layout(dists: Dists, tmp_path: Path) -> None:
    small = write_oci_layout(tmp_path / "small", build_image(SMALL_APP), omit_layers=True)
    golang = write_oci_layout(tmp_path / "golang", build_image(GOLANG_APP), omit_layers=True)

    allowed = dists.slimgate("check", "--output", "json", f"oci:{small}", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert [r["decision"] for r in json.loads(allowed.stdout)["results"]] == ["allow"]

    denied = dists.slimgate("check", "--output", "json", f"oci:{golang}", cwd=tmp_path)
    assert denied.returncode == 1, denied.stderr
    (result,) = json.loads(denied.stdout)["results"]
    assert result["decision"] == "deny"
    assert "toolchain-base" in {f["rule"] for f in result["findings"]}

"""The build stages ``slimgate fix`` writes, run for real on this machine's toolchains.

For the fixture projects of our own (zero dependencies, so nothing is downloaded), the
build stages' commands run with the host's Go, Node, Python, Rust and C compiler in a
directory standing in for the image (see :mod:`tests.support.host_build`); every
``COPY --from`` of the runtime stage must find what the builds produced, and the program
the runtime's start command names then runs. The images themselves are not built: there
is no container engine here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from slimgate.fix.entry import resolve
from tests.support.fix_cases import Case, cases
from tests.support.host_build import HostBuild

RUNNABLE = [case for case in cases() if case.meta["run"]]
NEEDS = {
    "go": ["go"],
    "node": ["node", "npm"],
    "python": ["python3"],
    "rust": ["cargo"],
    "c": ["gcc"],
}


def _tools(ecosystem: str) -> None:
    missing = [tool for tool in NEEDS[ecosystem] if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed on this machine")


@pytest.mark.parametrize("case", RUNNABLE, ids=[c.name for c in RUNNABLE])
def test_build_stage_produces_what_the_runtime_copies_and_it_runs(
    case: Case, tmp_path: Path
) -> None:
    result = case.fix()
    assert result.text is not None
    assert result.ecosystem is not None
    _tools(result.ecosystem)
    context = tmp_path / "context"
    shutil.copytree(case.directory, context)
    built = HostBuild(context, tmp_path).run(result.text)
    start = built.start
    assert start, "the runtime stage starts something"
    if result.ecosystem == "python":
        python = built.inside("/opt/venv/bin/python")
        program = [str(python), "-c", "import app; print(app.app.__name__)"]
        expected = "app"
        cwd = built.inside(built.workdir)
    elif start[0] == "node":
        program = ["node", str(built.inside(resolve(start[1], built.workdir)))]
        expected = "up"
        cwd = built.inside(built.workdir)
    else:
        program = [str(built.inside(start[0])), "--version"]
        expected = "1.0" if result.ecosystem != "rust" else "0.1.0"
        cwd = built.runtime_root
    completed = subprocess.run(
        program, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert expected in completed.stdout

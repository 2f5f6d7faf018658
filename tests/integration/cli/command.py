"""Run ``slimgate`` as a real subprocess, the way people and CI run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def slimgate_command() -> list[str]:
    """The console script installed next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "slimgate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slimgate.main"]


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


def slimgate(*args: str | Path, cwd: Path | None = None) -> Completed:
    completed = subprocess.run(
        [*slimgate_command(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd or ROOT,
    )
    return Completed(completed.returncode, completed.stdout, completed.stderr)


@dataclass
class Measured(Completed):
    """A finished run with its wall time and the peak resident memory of the process."""

    wall: float
    peak_rss_bytes: int
    ended: float  # time.monotonic() when the process had exited


# Runs the command given after the descriptor number and writes "<exit code> <peak RSS in
# KiB>" to that descriptor. A process started straight from this test process would
# report a wrong peak: on Linux, exec records the peak RSS of the address space it
# replaces, and a child forked (or vforked) from a large test process starts out as large
# as that process. The small interpreter in between is what the command replaces.
_REAPER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
os.write(int(sys.argv[1]), b"%d %d" % (code, usage.ru_maxrss))
sys.exit(code)
"""


def measured(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> Measured:
    """Run ``slimgate`` like :func:`slimgate`, timing it and reading its own peak RSS."""
    command = slimgate_command()
    reader, writer = os.pipe()
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _REAPER, str(writer), *command, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd or ROOT,
            pass_fds=(writer,),
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.close(writer)
    ended = time.monotonic()
    wall = ended - started
    with os.fdopen(reader, "rb") as report:
        code, peak_kib = map(int, report.read().split())
    assert code == completed.returncode, completed.stderr
    return Measured(code, completed.stdout, completed.stderr, wall, peak_kib * 1024, ended)

"""Run ``slimgate`` as a real subprocess, the way people and CI run it."""

from __future__ import annotations

import json
import subprocess
import sys
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

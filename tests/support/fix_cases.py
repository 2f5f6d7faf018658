"""The ``slimgate fix`` fixture cases: single-stage Dockerfiles of our own that reproduce
public patterns (``tests/fixtures/fix/<case>/case.json`` says where each was seen), each
with the project files the planner reads, and the golden diff in ``fix-golden/``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slimgate.cli.fix import render_diff
from slimgate.cli.fix_files import DirectoryFiles
from slimgate.fix import FixOptions, FixResult, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "fix"
GOLDEN = ROOT.parent / "fix-golden"
UPDATE = os.environ.get("SLIMGATE_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Case:
    name: str
    directory: Path
    meta: dict[str, Any]

    @property
    def dockerfile(self) -> Path:
        return self.directory / "Dockerfile"

    @property
    def options(self) -> FixOptions:
        return FixOptions(**self.meta["options"])

    def fix(self) -> FixResult:
        text = self.dockerfile.read_text(encoding="utf-8")
        return plan_fix(parse_dockerfile(text), text, DirectoryFiles(self.directory), self.options)

    def diff(self) -> str:
        text = self.dockerfile.read_text(encoding="utf-8")
        return render_diff("Dockerfile", text, self.fix())


def cases() -> list[Case]:
    return [
        Case(d.name, d, json.loads((d / "case.json").read_text()))
        for d in sorted(ROOT.iterdir())
        if (d / "case.json").is_file()
    ]

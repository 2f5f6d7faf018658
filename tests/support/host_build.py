"""Run the build stages of a fixed Dockerfile on this machine's own toolchain.

No container engine: each build stage's WORKDIR, ENV, COPY (from the build context) and
RUN are carried out in a directory that stands in for the image's root file system.
Absolute paths in RUN scripts and ENV values are moved under that root (system paths such
as ``/bin`` and ``/usr/bin`` excepted), BuildKit's ``--mount`` flags are dropped (they are
caches), and the host's PATH stands in for the image's. Then the final stage's
``COPY --from`` lines are checked against what the builds produced and copied into a
second root, where the test runs the program the start command names.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dockerfile_parse import DockerfileParser

from slimgate.analysis.dockerfile_model import env_pairs
from slimgate.fix.entry import parse as parse_start
from slimgate.fix.entry import resolve
from slimgate.fix.original import run_script

_SYSTEM = ("/bin/", "/usr/bin/", "/dev/", "/proc/", "/tmp", "/etc/", "/sbin/", "/lib")
_ABSOLUTE = re.compile(r"(?<![\w.$/~-])(/[A-Za-z0-9_.@+-]+(?:/[A-Za-z0-9_.@*+-]*)*)")


@dataclass
class Built:
    runtime_root: Path
    start: list[str] = field(default_factory=list)
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)

    def inside(self, path: str) -> Path:
        return self.runtime_root / path.lstrip("/")


class HostBuild:
    def __init__(self, context: Path, work: Path) -> None:
        self.context = context
        self.root = work / "build-root"
        self.runtime = work / "runtime-root"
        self.root.mkdir()
        self.runtime.mkdir()

    def map(self, text: str) -> str:
        def moved(match: re.Match[str]) -> str:
            path = match.group(1)
            if path == "/" or path.startswith(_SYSTEM):
                return path
            return str(self.root) + path

        return _ABSOLUTE.sub(moved, text)

    def _copy_in(self, sources: list[str], destination: str, workdir: str) -> None:
        target = Path(self.map(resolve(destination, workdir)))
        for source in sources:
            src = self.context / source
            if src.is_dir():
                shutil.copytree(src, target, dirs_exist_ok=True, symlinks=True)
            else:
                if destination.endswith("/") or len(sources) > 1 or target.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target / src.name)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target)

    def run(self, text: str) -> Built:
        structure = DockerfileParser(fileobj=io.BytesIO(text.encode()), env_replace=False).structure
        stages: list[list[dict[str, str]]] = []
        for item in structure:
            if item["instruction"] == "FROM":
                stages.append([])
            elif stages and item["instruction"] != "COMMENT":
                stages[-1].append(item)
        env: dict[str, str] = {}
        workdir = "/"
        for stage in stages[:-1]:
            for item in stage:
                workdir, env = self._step(item, workdir, env)
        return self._runtime(stages[-1])

    def _step(
        self, item: dict[str, str], workdir: str, env: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        keyword, value = item["instruction"], item["value"]
        if keyword == "WORKDIR":
            workdir = resolve(value.strip(), workdir)
            Path(self.map(workdir)).mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            for name, raw in env_pairs(value):
                env[name] = self.map(raw).replace("$PATH", env.get("PATH", os.environ["PATH"]))
        elif keyword in ("COPY", "ADD"):
            words = value.split()
            assert not any(w.startswith("--from") for w in words), f"COPY from an image: {value}"
            words = [w for w in words if not w.startswith("--")]
            self._copy_in(words[:-1], words[-1], workdir)
        elif keyword == "RUN":
            script = self.map(run_script(value))
            cwd = Path(self.map(workdir))
            cwd.mkdir(parents=True, exist_ok=True)
            completed = subprocess.run(
                ["sh", "-ec", script],
                cwd=cwd,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert completed.returncode == 0, (
                f"RUN {script}\n{completed.stdout}\n{completed.stderr}"
            )
        return workdir, env

    def _runtime(self, stage: list[dict[str, str]]) -> Built:
        built = Built(self.runtime)
        for item in stage:
            keyword, value = item["instruction"], item["value"]
            if keyword == "WORKDIR":
                built.workdir = resolve(value.strip(), built.workdir)
            elif keyword == "ENV":
                built.env.update(env_pairs(value))
            elif keyword == "COPY" and "--from=" in value:
                words = [w for w in value.split() if not w.startswith("--")]
                source, destination = words[0], resolve(words[1], built.workdir)
                produced = self.root / source.lstrip("/")
                assert produced.exists(), f"the build stages did not produce {source}"
                target = self.runtime / destination.lstrip("/")
                if produced.is_dir():
                    shutil.copytree(produced, target, dirs_exist_ok=True, symlinks=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(produced, target)
            elif keyword in ("ENTRYPOINT", "CMD"):
                built.start.extend(parse_start(value).words)
        return built

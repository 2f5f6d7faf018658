"""Images and Dockerfiles built to be expensive to analyse: time, memory and output size.

Run from the repository root: ``python bench/bench_complex_images.py``. Results go to
``bench/results/complex_images.json``. The hostile case is an image config (under the
4 MiB config cap) whose history repeats ``apt-get install gcc`` 59,871 times
(``tests.support.complex_images``), and a Dockerfile of the same 59,871 RUN lines. Each is
run as a user runs it, in its own process, and compared with an ordinary case in the same
run:

* ``check``: ``slimgate check --output json oci:<layout>`` (layer blobs absent) of the
  hostile image and of a small golang application image: wall and CPU seconds, peak RSS,
  exit code, findings and bytes of JSON printed;
* ``lint``: ``slimgate lint --output json`` of the hostile Dockerfile and of a short one;
* ``analyse``: ``analyse()`` of the hostile image, and of the same with 1,000 steps (the
  most history entries an image may have), in this process (seconds, findings).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.complex_images import (  # noqa: E402
    GCC_STEPS,
    repeated_step_dockerfile,
    repeated_step_image,
    repeated_step_metadata,
)
from tests.support.images import ImageSpec, build_image, write_oci_layout  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "complex_images.json"
APP = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:4b03b5f551e3 in / ", 2048),
        ("/bin/sh -c #(nop)  ENV GOLANG_VERSION=1.23.1", None),
        ("/bin/sh -c #(nop)  ENV PATH=/usr/local/go/bin:/usr/bin:/bin", None),
        ("RUN /bin/sh -c apt-get update && apt-get install -y gcc", 4096),
        ("COPY . /src # buildkit", 1024),
        ("RUN /bin/sh -c go build -o /app ./cmd/app # buildkit", 4096),
    ),
    env=("GOLANG_VERSION=1.23.1", "PATH=/usr/local/go/bin:/usr/bin:/bin"),
)
SHORT_DOCKERFILE = "FROM golang:1.23\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\n"


def slimgate() -> list[str]:
    script = Path(sys.executable).parent / "slimgate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slimgate.main"]


# Runs the command and reports its rusage. A child forked from this (large) process would
# report this process's RSS as its own peak (the kernel keeps the high-water mark of the
# memory it had before exec), so the command is started from this small launcher instead.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=sys.stdout, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"exit_code": os.waitstatus_to_exitcode(status),
                  "wall": time.perf_counter() - start,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_kb": usage.ru_maxrss}), file=sys.stderr)
"""


def measured(command: list[str]) -> dict[str, Any]:
    """Run ``command``; its wall and CPU seconds, peak RSS, exit code and output."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, check=True
    )
    usage = json.loads(done.stderr.decode().strip().splitlines()[-1])
    printed = done.stdout
    findings = 0
    with contextlib.suppress(ValueError, KeyError):
        findings = sum(len(r.get("findings", [])) for r in json.loads(printed)["results"])
    return {
        "exit_code": usage["exit_code"],
        "wall_seconds": round(usage["wall"], 3),
        "cpu_seconds": round(usage["cpu"], 3),
        "peak_rss_mb": round(usage["rss_kb"] / 1024, 1),
        "findings": findings,
        "output_bytes": len(printed),
    }


def analyse_in_process() -> dict[str, Any]:
    from slimgate.analysis.engine import analyse
    from slimgate.analysis.knowledge import Knowledge

    result: dict[str, Any] = {}
    for label, count in (("59,871 steps", GCC_STEPS), ("1,000 steps (at the limit)", 1_000)):
        image = repeated_step_metadata(count=count)
        start = time.perf_counter()
        analysis = analyse(image, Knowledge.default(), time.thread_time)
        seconds = time.perf_counter() - start
        result[label] = {
            "seconds": round(seconds, 4),
            "findings": len(analysis.findings),
            "rules": sorted({f.rule for f in analysis.findings}),
            "too_complex": analysis.too_complex,
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slimgate-bench-") as tmp:
        root = Path(tmp)
        hostile = write_oci_layout(root / "hostile", repeated_step_image(), omit_layers=True)
        app = write_oci_layout(root / "app", build_image(APP), omit_layers=True)
        long_file = root / "Dockerfile.long"
        long_file.write_text(repeated_step_dockerfile())
        short_file = root / "Dockerfile.short"
        short_file.write_text(SHORT_DOCKERFILE)
        check = [*slimgate(), "check", "--output", "json"]
        lint = [*slimgate(), "lint", "--output", "json"]
        result: dict[str, Any] = {
            "what": f"{GCC_STEPS:,} 'apt-get install gcc' steps: check and lint in their own "
            "process, against an ordinary image and Dockerfile in the same run",
            "python": platform.python_version(),
            "machine": platform.machine(),
            "check": {
                "hostile": measured([*check, f"oci:{hostile}"]),
                "ordinary": measured([*check, f"oci:{app}"]),
            },
            "lint": {
                "hostile": measured([*lint, str(long_file)]),
                "ordinary": measured([*lint, str(short_file)]),
            },
        }
    for what in ("check", "lint"):
        pair = result[what]
        pair["wall_ratio"] = round(
            pair["hostile"]["wall_seconds"] / max(pair["ordinary"]["wall_seconds"], 1e-3), 1
        )
    result["analyse"] = analyse_in_process()
    result["self_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

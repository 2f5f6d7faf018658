"""Wall time of ``slimgate check oci:<layout>`` against the interpreter's own start-up.

Builds a small OCI image layout (a golang-based image, layer blobs absent), then runs, in
alternation, ``slimgate check --output json oci:<layout>`` and ``python -c pass`` as
subprocesses, N times each, and writes the medians, their ratio and the target (0.5 s wall
including interpreter start-up) to ``bench/results/check.json``. The baseline is measured
in the same run so that a loaded machine shows up in both numbers; the CPU time (user +
system) of each run is recorded too, since it moves less than wall time when other work
shares the cores.

    python bench/bench_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import ImageSpec, build_image, write_oci_layout  # noqa: E402

TARGET_SECONDS = 0.5
RESULTS = ROOT / "bench" / "results" / "check.json"
GOLANG_APP = ImageSpec(
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


def slimgate_command() -> list[str]:
    """The installed console script next to this interpreter (no version-manager shim)."""
    script = Path(sys.executable).parent / "slimgate"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "slimgate.main"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], expected: set[int]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in expected:
        raise SystemExit(
            f"{command} exited {completed.returncode}: {completed.stderr.decode()[-2000:]}"
        )
    return elapsed, _children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slimgate-bench-") as tmp:
        layout = write_oci_layout(Path(tmp) / "layout", build_image(GOLANG_APP), omit_layers=True)
        check = [*slimgate_command(), "check", "--output", "json", f"oci:{layout}"]
        baseline = [sys.executable, "-c", "pass"]
        timed(check, {1})  # warm the file cache and check it denies as expected
        check_runs, baseline_runs = [], []
        for _ in range(args.runs):
            baseline_runs.append(timed(baseline, {0}))
            check_runs.append(timed(check, {1}))
    check_times = [wall for wall, _ in check_runs]
    baseline_times = [wall for wall, _ in baseline_runs]
    check_median = statistics.median(check_times)
    baseline_median = statistics.median(baseline_times)
    check_cpu = statistics.median(cpu for _, cpu in check_runs)
    baseline_cpu = statistics.median(cpu for _, cpu in baseline_runs)
    result = {
        "benchmark": "slimgate check --output json oci:<layout>",
        "command": [Path(check[0]).name, *check[1:-1], "oci:<layout>"],
        "runs": args.runs,
        "check_median_seconds": round(check_median, 4),
        "check_min_seconds": round(min(check_times), 4),
        "baseline_command": "python -c pass",
        "baseline_median_seconds": round(baseline_median, 4),
        "baseline_min_seconds": round(min(baseline_times), 4),
        "ratio": round(check_median / baseline_median, 2),
        "check_cpu_median_seconds": round(check_cpu, 4),
        "baseline_cpu_median_seconds": round(baseline_cpu, 4),
        "cpu_ratio": round(check_cpu / baseline_cpu, 2) if baseline_cpu else None,
        "target_seconds": TARGET_SECONDS,
        "within_target": check_median <= TARGET_SECONDS,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

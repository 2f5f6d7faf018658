"""Large valid-shaped reviews: what one huge Pod costs the webhook, and whether it stays live.

Run from the repository root: ``python bench/bench_large_reviews.py``. Results go to
``bench/results/large_reviews.json``. Three AdmissionReviews, each under the 3 MiB body cap:

* ``named``: a Pod whose containers all have a name and a distinct image (as many as fit
  in 3 MiB: about 90,000);
* ``unnamed``: the same without names (about 160,000 containers; the API server would
  refuse it, but anyone who can reach the webhook's port can send it);
* ``baseline``: the ordinary 3-container Pod of ``tests.support.admission``.

Every image is a short Docker Hub name (``i123``) and the configuration denies
``docker.io``, so the registry client refuses each lookup without connecting and what is
measured is the webhook's own work; short names make the most containers fit.

1. **Handler**: each review is answered by ``AdmissionHandler`` (the real engine and
   registry client, the default configuration) in a fresh process: wall and CPU seconds,
   peak RSS, the answer's size and the decision-log line's size. Ratios are against the
   baseline review measured the same way in the same run.
2. **Served**: ``slimgate serve`` over TLS (one worker). While each large review is posted
   ``REPEAT`` times in a row, ``GET /healthz`` is asked every 50 ms on another connection:
   its worst and median latency, against the same probe on an idle server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import admission  # noqa: E402
from tests.support.served import ServedWebhook  # noqa: E402

from slimgate.runtime.devcert import write_dev_certificates  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "large_reviews.json"
CONFIG = "registry:\n  deny: [docker.io]\n"
MIB = 1024 * 1024
BODY_LIMIT = 3 * MIB
REPEAT = 20


def large_review(named: bool) -> bytes:
    """A Pod review with as many distinct-image containers as fit under the body cap."""

    def body(count: int) -> bytes:
        pod = admission.pod([])
        pod["spec"]["containers"] = [
            {"name": f"c{i}", "image": f"i{i}"} if named else {"image": f"i{i}"}
            for i in range(count)
        ]
        return json.dumps(admission.review(pod, uid="large"), separators=(",", ":")).encode()

    per = len(body(1001)) - len(body(1000))
    count = (BODY_LIMIT - len(body(0)) - 64) // per
    data = body(count)
    while len(data) > BODY_LIMIT:
        count -= 100
        data = body(count)
    return data


def baseline_review() -> bytes:
    pod = admission.pod(["api:1", "web:1", "db:1"])
    return json.dumps(admission.review(pod, uid="baseline")).encode()


def case_body(case: str) -> bytes:
    if case == "baseline":
        return baseline_review()
    return large_review(named=case == "named")


def peak_rss_mb() -> float:
    """This process's peak RSS (``VmHWM``). Unlike ``ru_maxrss`` it does not include what a
    large parent had before ``exec``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_handler(case: str, config: Path, body: Path) -> dict[str, Any]:
    """In this (fresh) process: answer the review in ``body`` with the real engine, measure
    it (the body is made by the parent, so building it does not count here)."""
    import io
    import logging

    from slimgate.config import load_settings
    from slimgate.runtime import jsonlog
    from slimgate.webhook.app import create_app
    from slimgate.webhook.generations import Composer
    from slimgate.webhook.metrics import WebhookMetrics

    data = body.read_bytes()
    containers = data.count(b'"image":')
    stream = io.StringIO()
    jsonlog.configure(stream=stream)
    metrics = WebhookMetrics()
    composer = Composer(metrics)
    wiring = composer.build(load_settings(config))
    app = create_app(wiring.settings, wiring.engine, metrics=metrics)
    handler = app.extensions["slimgate"]["handler"]
    rss_before = peak_rss_mb()
    cpu = time.process_time()
    start = time.perf_counter()
    status, answer = handler(data)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    rss_after = peak_rss_mb()
    logging.shutdown()
    lines = [line for line in stream.getvalue().splitlines() if '"admission decision"' in line]
    response = json.loads(answer)["response"]
    composer.close()
    app.extensions["slimgate"]["pool"].shutdown(wait=True)
    return {
        "case": case,
        "body_bytes": len(data),
        "containers": containers,
        "status": status,
        "allowed": response.get("allowed"),
        "warnings": len(response.get("warnings", [])),
        "answer_bytes": len(answer),
        "decision_log_line_bytes": max((len(line) for line in lines), default=0),
        "wall_seconds": round(wall, 4),
        "cpu_seconds": round(cpu, 4),
        "peak_rss_mb_before": round(rss_before, 1),
        "peak_rss_mb_after": round(rss_after, 1),
    }


def handler_in_subprocess(case: str, config: Path) -> dict[str, Any]:
    body = config.parent / f"{case}.json"
    body.write_bytes(case_body(case))
    out = subprocess.run(
        [sys.executable, __file__, "--handler", case, "--config", str(config), "--body", str(body)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def probe_while(served: ServedWebhook, data: bytes | None, seconds: float = 2.0) -> dict[str, Any]:
    """``/healthz`` every 50 ms while ``data`` is reviewed (or for ``seconds`` idle)."""
    latencies: list[float] = []
    done = threading.Event()
    review: dict[str, Any] = {}

    def post() -> None:
        seconds: list[float] = []
        statuses: set[int] = set()
        with served.client() as client:
            for _ in range(REPEAT):
                start = time.perf_counter()
                answer = client.post(
                    f"{served.url}/validate",
                    content=data,
                    headers={"content-type": "application/json"},
                    timeout=60,
                )
                seconds.append(time.perf_counter() - start)
                statuses.add(answer.status_code)
        review["reviews"] = REPEAT
        review["median_seconds"] = round(statistics.median(seconds), 3)
        review["max_seconds"] = round(max(seconds), 3)
        review["statuses"] = sorted(statuses)
        done.set()

    with served.client() as probe:
        probe.get(f"{served.url}/healthz")  # connect first: measure answers, not handshakes
        if data is None:
            threading.Timer(seconds, done.set).start()
        else:
            threading.Thread(target=post, daemon=True).start()
        while not done.is_set():
            start = time.perf_counter()
            status = probe.get(f"{served.url}/healthz", timeout=60).status_code
            latencies.append(time.perf_counter() - start)
            assert status == 200
            time.sleep(0.05)
    ms = sorted(x * 1000 for x in latencies)
    return {
        **({"review": review} if review else {}),
        "healthz_probes": len(ms),
        "healthz_median_ms": round(statistics.median(ms), 2),
        "healthz_max_ms": round(ms[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handler", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--body", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.handler:
        print(json.dumps(run_handler(args.handler, args.config, args.body)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="slimgate-bench-"))
    config = tmp / "config.yaml"
    config.write_text(CONFIG)
    handler = {
        case: handler_in_subprocess(case, config) for case in ("baseline", "named", "unnamed")
    }
    base = handler["baseline"]
    for case in ("named", "unnamed"):
        handler[case]["cpu_ratio_to_baseline"] = round(
            handler[case]["cpu_seconds"] / max(base["cpu_seconds"], 1e-6), 1
        )
    certs = write_dev_certificates(tmp)
    served = ServedWebhook(tmp, config, certs.cert, certs.key, certs.ca, ready_within=30)
    try:
        idle = probe_while(served, None)
        during = {case: probe_while(served, case_body(case)) for case in ("named", "unnamed")}
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "what": "one huge Pod review (distinct images on a refused address): handler cost, "
        "and /healthz latency while it is answered over TLS",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "handler": handler,
        "served": {"idle": idle, **during},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

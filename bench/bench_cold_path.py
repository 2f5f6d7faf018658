"""What a review of new images costs when the registry is 50 ms away: one image against three.

Each image's chain (tag -> manifest -> config) is a few requests in a row, each answered 50 ms
late by the tests' fault server. A pod naming three new images should cost about one chain,
not three: the images are looked up at once, on the lookup threads. Every trial uses images
nobody looked up before (fresh repositories), reviewed by the webhook's admission handler
with the real engine (``webhook_app``, as the integration tests build it). The order of the
one-image and three-image reviews alternates between trials.

Results: bench/results/cold_path.json. Run: ``.venv/bin/python bench/bench_cold_path.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.webhook.conftest import webhook_app  # noqa: E402
from tests.support import admission  # noqa: E402
from tests.support.faults import FaultServer  # noqa: E402
from tests.support.images import ImageSpec, build_image  # noqa: E402
from tests.unit.webhook.conftest import post  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "cold_path.json"
CONFIG = """
registry:
  insecure: ["127.0.0.1"]
  knownToolchainImages: []  # no lineage lookups to public registries
policy:
  mode: enforce
webhook:
  timeoutSeconds: 10
"""


def fresh_images(server: FaultServer, count: int, delay: float) -> list[str]:
    names = []
    for _ in range(count):
        repository = f"cold/{uuid.uuid4().hex[:12]}"
        built = build_image(dataclasses.replace(ImageSpec(), labels={"id": repository}))
        server.serve(repository, "1", built, delay=delay)
        names.append(f"{server.host}/{repository}:1")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    server = FaultServer()
    took: dict[int, list[float]] = {1: [], 3: []}
    requests: dict[int, list[int]] = {1: [], 3: []}
    try:
        for app, _ in webhook_app(CONFIG):
            client = app.test_client()
            post(client, admission.review(admission.pod(fresh_images(server, 1, 0.0))))  # warm-up
            for trial in range(args.trials):
                for count in (1, 3) if trial % 2 == 0 else (3, 1):
                    images = fresh_images(server, count, args.delay)
                    before = len(server.seen)
                    started = time.perf_counter()
                    answer = post(client, admission.review(admission.pod(images)))
                    took[count].append(time.perf_counter() - started)
                    requests[count].append(len(server.seen) - before)
                    assert answer["allowed"] is True, answer
    finally:
        server.stop()
    one, three = statistics.median(took[1]), statistics.median(took[3])
    result: dict[str, Any] = {
        "what": "admission review of 1 vs 3 new images, registry answers 50 ms late",
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "trials": args.trials,
        "registry_delay_s": args.delay,
        "one_image_ms": {"median": round(one * 1000, 1), "max": round(max(took[1]) * 1000, 1)},
        "three_images_ms": {
            "median": round(three * 1000, 1),
            "max": round(max(took[3]) * 1000, 1),
        },
        "registry_requests_per_review": {
            "one": statistics.median(requests[1]),
            "three": statistics.median(requests[3]),
        },
        "ratio": round(three / one, 2),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

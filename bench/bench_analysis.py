"""Analysis benchmark: how long ``analyse()`` takes per image, against baselines in the same run.

Run from the repository root: ``python bench/bench_analysis.py``. Results go to
``bench/results/analysis.json``. For every image of the real corpus (tests/fixtures/corpus)
and two composed application images, it measures with :mod:`timeit` (best-of-repeats
discarded in favour of the median of ``--repeat`` runs, each of enough calls to last about
``--budget`` seconds):

* ``analyse_us``: one ``analyse(image, Knowledge.default())`` call with the memos of
  parsed history entries, shell scripts and step results cleared before every call (an
  image never seen before, none of its steps either);
* ``warm_us``: the same call with the memos kept (the steps already parsed once, as for a
  new application image on a popular base);
* ``json_us``: ``json.loads`` of the image's config blob as a registry would serve it
  (the work the webhook must do anyway before it can analyse anything);
* ``walk_us``: a no-op pass over the history (``len`` of each ``created_by``).

Ratios (``analyse_us / json_us``) compare like with like on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import corpus  # noqa: E402

from slimgate.analysis.engine import analyse  # noqa: E402
from slimgate.analysis.facts import clear_memos  # noqa: E402
from slimgate.analysis.knowledge import Knowledge  # noqa: E402
from slimgate.model import ImageMetadata  # noqa: E402

MB = 1_000_000


def config_blob(image: ImageMetadata) -> str:
    """The image config as a registry serves it (image-spec config.md field names)."""
    config = image.config
    return json.dumps(
        {
            "architecture": config.architecture,
            "os": config.os,
            "config": {
                "Env": list(config.env),
                "Labels": dict(config.labels),
                "Cmd": list(config.cmd),
                "Entrypoint": list(config.entrypoint),
            },
            "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in image.layers]},
            "history": [
                {"created_by": entry.created_by, "empty_layer": entry.empty_layer}
                for entry in config.history
            ],
        }
    )


def images() -> dict[str, ImageMetadata]:
    cases = {name: corpus.load(name) for name in corpus.names()}
    cases["app: golang single-stage"] = corpus.extend(
        cases["golang-1-bookworm"],
        [
            ("WORKDIR /src", 93),
            ("COPY go.mod go.sum ./ # buildkit", 800),
            ("RUN /bin/sh -c go mod download # buildkit", 40 * MB),
            ("COPY . . # buildkit", 3 * MB),
            ("RUN /bin/sh -c CGO_ENABLED=0 go build -o /bin/app ./cmd/app # buildkit", 25 * MB),
            ('ENTRYPOINT ["/bin/app"]', None),
        ],
    )
    cases["app: node multi-stage"] = corpus.extend(
        cases["node-22-bookworm-slim"],
        [
            ("WORKDIR /app", 93),
            ("COPY package.json package-lock.json ./ # buildkit", 4000),
            ("RUN /bin/sh -c npm ci --omit=dev # buildkit", 60 * MB),
            ("COPY --from=build /app/dist ./dist # buildkit", 2 * MB),
            ('CMD ["node", "dist/server.js"]', None),
        ],
    )
    return cases


def median_us(statement: Any, repeat: int, budget: float) -> float:
    timer = timeit.Timer(statement)
    number, _ = timer.autorange()
    number = max(1, int(number * budget / 0.2))
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds per repeat")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analysis.json")
    args = parser.parse_args()

    knowledge = Knowledge.default()
    rows = []
    for name, image in images().items():
        blob = config_blob(image)
        history = image.config.history

        def cold(i: ImageMetadata = image) -> None:
            clear_memos()
            analyse(i, knowledge)

        analyse_us = median_us(cold, args.repeat, args.budget)
        warm_us = median_us(lambda i=image: analyse(i, knowledge), args.repeat, args.budget)
        json_us = median_us(lambda b=blob: json.loads(b), args.repeat, args.budget)
        walk_us = median_us(
            lambda h=history: sum(len(e.created_by) for e in h), args.repeat, args.budget
        )
        rows.append(
            {
                "image": name,
                "history_entries": len(history),
                "config_bytes": len(blob),
                "findings": len(analyse(image, knowledge).findings),
                "analyse_us": round(analyse_us, 1),
                "warm_us": round(warm_us, 1),
                "json_us": round(json_us, 2),
                "walk_us": round(walk_us, 3),
                "ratio_to_json": round(analyse_us / json_us, 1),
            }
        )
        print(
            f"{name:32} {analyse_us:9.1f} us  warm {warm_us:8.1f} us  "
            f"json {json_us:7.2f} us  x{analyse_us / json_us:6.1f}"
        )

    summary = {
        "median_analyse_us": round(statistics.median(r["analyse_us"] for r in rows), 1),
        "max_analyse_us": max(r["analyse_us"] for r in rows),
        "median_warm_us": round(statistics.median(r["warm_us"] for r in rows), 1),
        "median_json_us": round(statistics.median(r["json_us"] for r in rows), 2),
        "median_ratio_to_json": round(statistics.median(r["ratio_to_json"] for r in rows), 1),
    }
    result = {
        "what": "analyse() per image, cold and with steps memoised, vs json.loads of its config",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeat": args.repeat,
        "summary": summary,
        "images": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

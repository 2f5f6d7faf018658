"""What a change to the analysis costs per image: this tree against another, in the same run.

Run from the repository root: ``python bench/bench_readers.py --baseline DIR`` where DIR
holds another checkout's files (``git archive main | tar -x -C /tmp/base``). Each round
times ``analyse()`` of every corpus image (tests/fixtures/corpus, read from this tree) in a
fresh process of each tree in turn, as CPU time of the calling thread (``time.thread_time``,
which other work on a shared machine disturbs less than wall time): the best of
``--repeat`` batches of ``--calls`` calls, steps memoised as for a new image on a popular
base. Rounds alternate the trees, so each round gives a ratio per image from two runs
close in time; per image the figures are the best over rounds, and the ratio is the
median of the rounds' ratios, with their range as its spread. Results go to
``bench/results/readers.json``: per image both figures, the ratio and its spread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
# Import slimgate from this tree's src/, not from wherever an editable install points: its
# finder sits on sys.meta_path ahead of sys.path and would give both trees the same code.
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__]
sys.path[:0] = [{src!r}, {root!r}]
from tests.support import corpus
from slimgate.analysis.engine import analyse
from slimgate.analysis.knowledge import Knowledge
import slimgate
assert slimgate.__file__.startswith({src!r}), slimgate.__file__
knowledge = Knowledge.default()
result = {{}}
for name in corpus.names():
    image = corpus.load(name)
    analyse(image, knowledge)
    best = float("inf")
    for _ in range({repeat}):
        start = time.thread_time()
        for _ in range({calls}):
            analyse(image, knowledge)
        best = min(best, (time.thread_time() - start) / {calls} * 1e6)
    result[name] = best
print(json.dumps(result))
"""


def measure(source: Path, repeat: int, calls: int) -> dict[str, float]:
    """Per image, the best µs per call with ``source``'s slimgate (this tree's corpus)."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    code = _CHILD.format(root=str(ROOT), src=str(source / "src"), repeat=repeat, calls=calls)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another tree's files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "readers.json")
    args = parser.parse_args()
    this: dict[str, float] = {}
    base: dict[str, float] = {}
    round_ratios: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        figures = [measure(source, args.repeat, args.calls) for source in (args.baseline, ROOT)]
        for name, before in figures[0].items():
            after = figures[1][name]
            base[name] = min(before, base.get(name, float("inf")))
            this[name] = min(after, this.get(name, float("inf")))
            round_ratios.setdefault(name, []).append(after / before)
    rows = [
        {
            "image": name,
            "baseline_us": round(base[name], 1),
            "this_us": round(this[name], 1),
            "ratio": round(statistics.median(round_ratios[name]), 3),
            "ratio_range": [round(min(round_ratios[name]), 3), round(max(round_ratios[name]), 3)],
        }
        for name in sorted(this)
    ]
    for row in rows:
        image, before, after = row["image"], row["baseline_us"], row["this_us"]
        low, high = row["ratio_range"]
        print(f"{image:<32} {before:>8} us  {after:>8} us  x{row['ratio']}  ({low}-{high})")
    ratios = [row["ratio"] for row in rows]
    summary = {
        "median_ratio": round(statistics.median(ratios), 3),
        "max_ratio": max(ratios),
        "max_ratio_range_high": max(row["ratio_range"][1] for row in rows),
        "images_over_1.10": sum(1 for r in ratios if r > 1.10),
    }
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "what": "analyse() per image, this tree vs a baseline tree, CPU time, memoised; "
                "ratio: median over rounds of each round's ratio, with its range",
                "rounds": args.rounds,
                "repeat": args.repeat,
                "calls": args.calls,
                "summary": summary,
                "images": rows,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

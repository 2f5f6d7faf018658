"""Soak: ``slimgate serve`` for ten minutes under steady warm traffic, cold and hostile images.

Run from the repository root: ``python bench/bench_soak.py [--duration 600]``. Results go to
``bench/results/soak.json``; the exit code is 1 when any answer was a 5xx, an invalid
answer, a wrong decision, or a lookup outlived its review's deadline by more than a second.

What is served is the real thing, as a cluster runs it: ``slimgate serve`` over TLS with one
worker, enforce mode and the default limits (a 5 s webhook timeout, so a 4 s review
deadline; ``onRegistryError: warn``). Only ``knownToolchainImages`` is emptied: the
built-in list would be looked up on Docker Hub, which this run neither reaches nor
measures. For ``--duration`` seconds, at once:

- warm: ``--clients`` threads post reviews of three images already decided (two Pods, one
  allowed and one denied for a toolchain base, and a Deployment) at ``--rate`` reviews per
  second in all, on keep-alive connections, as the API server does;
- probes: a new TLS connection for ``GET /healthz`` every ``--probe-every`` seconds, closed
  by the client, as the kubelet's probes are;
- cold: every ``--cold-every`` seconds a new image, a toolchain build or a small one in
  turn, is pushed to Debian's docker-registry on 127.0.0.1 under a new tag and reviewed:
  it must be denied or allowed on its findings, in time, while the attacks below go on;
- hostile: every ``--hostile-every`` seconds a Pod naming three new images on three hostile
  registries (the tests' fault server, a host each, so that the breaker that stops asking
  the dripping one does not spare the others): one drips its answers a byte every 50 ms,
  one answers a manifest of a gibibyte of zeros in a megabyte of gzip, one a manifest
  nested 100,000 levels deep; and every ``--wave-every`` seconds a Pod of 40 dripping
  images. Each is answered ``allowed`` with a "not checked" warning per image
  (``onRegistryError: warn``).

Every answer is checked (status, a valid AdmissionReview with the request's uid, the
decision expected for the images). The hostile registry records when each dripped answer
ended (the client went away): a lookup outlives its review when that is more than a second
past the review's deadline. The worker's RSS, threads and open files are read from
``/proc`` every second. The decision log gives what each hostile image ended as.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import trustme

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.webhook.conftest import GOLANG_APP  # noqa: E402
from tests.integration.webhook.test_hostile_clients import Served, start  # noqa: E402
from tests.support import admission, fuzz  # noqa: E402
from tests.support.faults import (  # noqa: E402
    FaultServer,
    Reply,
    Seen,
    blob_reply,
    deep_json,
    gzip_bomb,
)
from tests.support.hostile_client import read_response, request_bytes  # noqa: E402
from tests.support.images import Blob, ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import start_registry  # noqa: E402

from slimgate.model import OCI_MANIFEST  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "soak.json"
TIMEOUT_SECONDS = 5  # the chart's webhook timeout; the review deadline is 80 % of it
DEADLINE = 0.8 * TIMEOUT_SECONDS
OUTLIVED = 1.0  # a lookup may end at most this long after its review's deadline
CONFIG = f"""
registry:
  insecure: ["127.0.0.1"]
  knownToolchainImages: []
policy:
  mode: enforce
webhook:
  timeoutSeconds: {TIMEOUT_SECONDS}
"""
HOSTILE_IMAGE = build_image(ImageSpec(history=[("ADD rootfs", 1000), ("RUN make", 2000)]))
DEEP = Blob(OCI_MANIFEST, deep_json())
PADDING = {"X-Padding": "." * 200}  # headers that take 10 s to drip at 50 ms a byte
HOSTILE_KINDS = ("drip", "bomb", "nested")


# -- the hostile registry -----------------------------------------------------------------


class TimedFaultServer(FaultServer):
    """The tests' fault server, recording when each dripped answer ended, by path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.drips: list[tuple[str, float, float]] = []  # path, started, ended (monotonic)
        self._drips_lock = threading.Lock()

    def _drip(
        self,
        request: BaseHTTPRequestHandler,
        method: str,
        reply: Reply,
        headers: Mapping[str, str],
    ) -> None:
        started = time.monotonic()
        try:
            super()._drip(request, method, reply, headers)
        finally:
            with self._drips_lock:
                self.drips.append((request.path, started, time.monotonic()))


def hostile_reply(seen: Seen) -> Reply:
    """``/v2/<kind>/<name>/manifests/<reference>``, whatever the name: answers by kind."""
    parts = seen.path.split("?", 1)[0].split("/")
    kind = parts[2] if len(parts) > 2 else ""
    head = seen.method == "HEAD"
    if kind == "drip":
        return Reply(200, headers=PADDING, header_drip=0.05)
    if kind == "bomb":
        if parts[-1] == HOSTILE_IMAGE.digest and not head:
            manifest = HOSTILE_IMAGE.manifest
            headers = {
                "Content-Encoding": "gzip",
                "Content-Type": manifest.media_type,
                "Docker-Content-Digest": manifest.digest,
            }
            return Reply(200, gzip_bomb(), headers)
        return blob_reply(HOSTILE_IMAGE.manifest, head=head)  # the tag: the digest to fetch
    if kind == "nested":
        return blob_reply(DEEP, head=head)
    return Reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')


# -- what one answer is worth ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Expected:
    """What a review must be answered: allowed or denied, and a text the answer names."""

    allowed: bool
    mentions: str = ""
    warned: int = 0  # "not checked" warnings expected (hostile images)


def verdict(data: bytes, uid: str, status: int, body: bytes, expected: Expected) -> str:
    """``ok``, ``5xx``, ``invalid``, ``uid`` or ``wrong-decision``."""
    judged = fuzz.judge(data, status, body, uid)
    if judged != fuzz.OK:
        return judged
    if status != 200:
        return fuzz.INVALID
    response = json.loads(body)["response"]
    if response["allowed"] is not expected.allowed:
        return "wrong-decision"
    if expected.mentions and expected.mentions not in response.get("status", {}).get("message", ""):
        return "wrong-decision"
    warnings = response.get("warnings", [])
    if expected.warned:
        unchecked = sum(" not checked: " in w for w in warnings)
        summary = any(w.endswith("more warnings not shown") for w in warnings)
        if unchecked < expected.warned and not summary:
            return "wrong-decision"
    elif expected.allowed and warnings:
        return "wrong-decision"
    return fuzz.OK


class Tally:
    """Answers, latencies and verdicts of one kind of traffic."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.verdicts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.examples: dict[str, str] = {}

    def record(self, verdict: str, status: int, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.verdicts[verdict] += 1
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if verdict != fuzz.OK and verdict not in self.examples:
                self.examples[verdict] = detail[:400]

    def summary(self) -> dict[str, Any]:
        ms = sorted(s * 1000 for s in self.latencies)
        return {
            "requests": len(ms),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "verdicts": dict(sorted(self.verdicts.items())),
            "latency_ms": (
                {
                    "p50": round(statistics.median(ms), 2),
                    "p99": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2),
                    "max": round(ms[-1], 2),
                }
                if ms
                else None
            ),
            "first_failures": self.examples,
        }


# -- the traffic -----------------------------------------------------------------------------


def body_for(obj: dict[str, Any]) -> tuple[bytes, str]:
    uid = str(uuid.uuid4())
    return json.dumps(admission.review(obj, uid=uid)).encode(), uid


class Soak:
    def __init__(self, served: Served, args: argparse.Namespace) -> None:
        self.served = served
        self.args = args
        self.context = served.target.context()
        self.stopping = threading.Event()
        self.warm = Tally()
        self.cold = Tally()
        self.hostile = Tally()
        self.probes = Tally()
        self.late_sends = 0
        self.hostile_sent: dict[str, tuple[str, float]] = {}  # image -> (kind, time sent)
        self.hostile_uids: set[str] = set()
        self.lock = threading.Lock()

    def client(self) -> httpx.Client:
        return httpx.Client(verify=self.context, timeout=30, trust_env=False)

    def post(
        self, http: httpx.Client, data: bytes, uid: str, expected: Expected, tally: Tally
    ) -> httpx.Client:
        """Post one review and tally its answer; the client to use next (a new one after a
        connection error)."""
        started = time.monotonic()
        try:
            answer = http.post(
                f"{self.served.url}/validate",
                content=data,
                headers={"content-type": "application/json"},
            )
        except httpx.TransportError as exc:
            tally.record("connection", 0, time.monotonic() - started, repr(exc))
            http.close()
            return self.client()
        seconds = time.monotonic() - started
        judged = verdict(data, uid, answer.status_code, answer.content, expected)
        tally.record(judged, answer.status_code, seconds, answer.text)
        return http

    def warm_traffic(self, index: int, bodies: list[tuple[dict[str, Any], Expected]]) -> None:
        rate, clients = self.args.rate, self.args.clients
        period = clients / rate
        next_at = self.started + index / rate
        http = self.client()
        n = index
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                if next_at > now:
                    if self.stopping.wait(next_at - now):
                        break
                elif now - next_at > period:
                    with self.lock:
                        self.late_sends += 1
                    next_at = max(next_at, now - 1.0)  # catch up at most a second's worth
                obj, expected = bodies[n % len(bodies)]
                data, uid = body_for(obj)
                http = self.post(http, data, uid, expected, self.warm)
                next_at += period
                n += clients
        finally:
            http.close()

    def probe_traffic(self) -> None:
        request = request_bytes("GET", "/healthz")
        while not self.stopping.wait(self.args.probe_every):
            started = time.monotonic()
            try:
                with self.served.target.tls() as sock:
                    sock.sendall(request)
                    status, _, _ = read_response(sock)
            except (OSError, ConnectionError) as exc:
                self.probes.record("connection", 0, time.monotonic() - started, repr(exc))
                continue
            ok = fuzz.OK if status == 200 else fuzz.INVALID
            self.probes.record(ok, status, time.monotonic() - started, str(status))

    def cold_traffic(self, registry_url: str, registry_host: str) -> None:
        http = self.client()
        n = 0
        try:
            while not self.stopping.wait(self.args.cold_every):
                n += 1
                toolchain = n % 2 == 1
                spec = GOLANG_APP if toolchain else ImageSpec()
                built = build_image(dataclasses.replace(spec, labels={"soak.build": str(n)}))
                push(registry_url, "soak/cold", str(n), built)
                image = f"{registry_host}/soak/cold:{n}"
                expected = Expected(False, "toolchain-base") if toolchain else Expected(True)
                data, uid = body_for(admission.pod([image], name=f"cold-{n}"))
                http = self.post(http, data, uid, expected, self.cold)
        finally:
            http.close()

    def hostile_traffic(self, hosts: Mapping[str, str]) -> None:
        http = self.client()
        n = 0
        next_wave = time.monotonic()
        try:
            while not self.stopping.wait(self.args.hostile_every):
                n += 1
                if time.monotonic() >= next_wave:
                    next_wave += self.args.wave_every
                    images = [f"{hosts['drip']}/drip/wave{n}-{i}:1" for i in range(40)]
                    kinds = ["drip"] * 40
                else:
                    images = [f"{hosts[kind]}/{kind}/app{n}:1" for kind in HOSTILE_KINDS]
                    kinds = list(HOSTILE_KINDS)
                data, uid = body_for(admission.pod(images, name=f"hostile-{n}"))
                sent = time.monotonic()
                with self.lock:
                    self.hostile_uids.add(uid)
                    for image, kind in zip(images, kinds, strict=True):
                        self.hostile_sent[image] = (kind, sent)
                expected = Expected(True, warned=min(len(images), 15))
                http = self.post(http, data, uid, expected, self.hostile)
        finally:
            http.close()

    def run(
        self, registry_url: str, registry_host: str, hostile: Mapping[str, str], warm: Any
    ) -> None:
        self.started = time.monotonic()
        threads = [
            threading.Thread(target=self.warm_traffic, args=(i, warm), daemon=True)
            for i in range(self.args.clients)
        ]
        threads.append(threading.Thread(target=self.probe_traffic, daemon=True))
        threads.append(
            threading.Thread(
                target=self.cold_traffic, args=(registry_url, registry_host), daemon=True
            )
        )
        threads.append(threading.Thread(target=self.hostile_traffic, args=(hostile,)))
        for thread in threads:
            thread.start()
        self.stopping.wait(self.args.duration)
        self.stopping.set()
        for thread in threads:
            thread.join(60)
        self.elapsed = time.monotonic() - self.started


# -- the worker, from /proc ------------------------------------------------------------------


def worker_status(pid: int) -> dict[str, float]:
    status: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            status["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
        elif line.startswith("Threads:"):
            status["threads"] = int(line.split()[1])
    status["open_files"] = len(os.listdir(f"/proc/{pid}/fd"))
    return status


class Sampler:
    """The worker's status every ``interval`` seconds, on a thread of its own."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic() - self._started, worker_status(self.pid)))
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def maximum(self) -> dict[str, float]:
        keys = self.samples[0][1].keys()
        return {key: max(s[key] for _, s in self.samples) for key in keys}

    def timeline(self, every: float = 60.0) -> list[dict[str, float]]:
        points, due = [], 0.0
        for at, status in self.samples:
            if at >= due:
                points.append({"second": round(at), **status})
                due += every
        return points


# -- reading the results -------------------------------------------------------------------


def outlived(fault: TimedFaultServer, sent: Mapping[str, tuple[str, float]]) -> dict[str, Any]:
    """Each dripped answer against the deadline of the review that asked for it."""
    by_path: dict[str, float] = {}
    for image, (_, when) in sent.items():
        repository, _, tag = image.split("/", 1)[1].rpartition(":")
        by_path[f"/v2/{repository}/manifests/{tag}"] = when
    past: list[float] = []
    unmatched = 0
    for path, _, ended in fault.drips:
        asked = by_path.get(path.split("?", 1)[0])
        if asked is None:
            unmatched += 1
            continue
        past.append(ended - (asked + DEADLINE))
    return {
        "dripped_answers": len(fault.drips),
        "not_matched_to_a_review": unmatched,
        "ended_after_the_review_deadline_by_s": {
            "max": round(max(past), 2) if past else None,
            "median": round(statistics.median(past), 2) if past else None,
        },
        "lookups_outliving_the_deadline_by_more_than_1s": sum(p > OUTLIVED for p in past),
    }


OUTCOMES = (
    ("lookup deadline", re.compile(r"no answer within|did not answer within \d")),
    ("queued past the review deadline", re.compile(r"no time was left")),
    ("breaker open", re.compile(r"times in a row")),
    ("over the size cap", re.compile(r"larger than the \d+-byte limit")),
    ("nested too deeply", re.compile(r"nested too deeply")),
)


def hostile_outcomes(
    log: Path, uids: set[str], sent: Mapping[str, tuple[str, float]]
) -> tuple[dict[str, dict[str, int]], int, int]:
    """From the decision log: what each hostile image ended as, by kind; how many images
    the review deadline cut off; how many tracebacks the log holds."""
    outcomes: dict[str, Counter[str]] = {kind: Counter() for kind in HOSTILE_KINDS}
    cut_off = tracebacks = 0
    with log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if "Traceback" in line:
                tracebacks += 1
            if '"admission decision"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("uid") not in uids:
                continue
            for image in entry.get("images", []):
                kind = sent.get(image["image"], ("?", 0.0))[0]
                error = image.get("error", "")
                name = next((n for n, p in OUTCOMES if p.search(error)), error[:80] or "none")
                outcomes.setdefault(kind, Counter())[name] += 1
            cut_off += entry.get("deadlineExceededCount", len(entry.get("deadlineExceeded", [])))
    return {k: dict(v) for k, v in outcomes.items()}, cut_off, tracebacks


def metric_totals(served: Served, names: tuple[str, ...]) -> dict[str, float]:
    with served.client() as client:
        text = client.get(f"{served.url}/metrics").text
    totals = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        for name in names:
            if line.startswith(name) and not line.startswith("#"):
                totals[name] += float(line.rsplit(" ", 1)[1])
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=200.0, help="warm reviews per second")
    parser.add_argument("--clients", type=int, default=4, help="warm client threads")
    parser.add_argument("--probe-every", type=float, default=0.5)
    parser.add_argument("--cold-every", type=float, default=2.0)
    parser.add_argument("--hostile-every", type=float, default=3.0)
    parser.add_argument("--wave-every", type=float, default=60.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ["SLIMGATE_WEBHOOK_WORKERS"] = "1"
    root = Path(tempfile.mkdtemp(prefix="slimgate-soak-"))
    registry = start_registry(root / "registry")
    gzip_bomb()  # made once, before the clock starts (it compresses a gibibyte)
    faults = {kind: TimedFaultServer() for kind in HOSTILE_KINDS}  # a registry host each
    for fault in faults.values():
        fault.default = hostile_reply
    served = None
    try:
        host = registry.host
        small = build_image(ImageSpec(labels={"soak": "small"}))
        push(registry.url, "soak/api", "1", small)
        push(registry.url, "soak/web", "1", build_image(ImageSpec(labels={"soak": "web"})))
        push(registry.url, "soak/golang", "1", build_image(GOLANG_APP))
        api, web, golang = (f"{host}/soak/{name}:1" for name in ("api", "web", "golang"))
        warm = [
            (admission.pod([api, web], name="shop"), Expected(True)),
            (admission.pod([api, golang], name="build"), Expected(False, "toolchain-base")),
            (admission.workload("Deployment", [web], name="front"), Expected(True)),
        ]
        served = start(root / "webhook", trustme.CA(), CONFIG)
        soak = Soak(served, args)
        with soak.client() as http:  # decide the warm images once, then settle
            for obj, expected in warm:
                data, uid = body_for(obj)
                soak.post(http, data, uid, expected, Tally())
        time.sleep(2)
        sampler = Sampler(served.process.pid).start()
        load_before = os.getloadavg()
        soak.run(registry.url, host, {k: f.host for k, f in faults.items()}, warm)
        at_end = worker_status(served.process.pid)
        time.sleep(DEADLINE + 2)  # lookups the last reviews cut off end; the server idles
        sampler.stop()
        idle = worker_status(served.process.pid)
        load_after = os.getloadavg()
        metrics = metric_totals(
            served,
            (
                "slimgate_admission_deadline_exceeded_total",
                "slimgate_admission_invalid_requests_total",
            ),
        )
    finally:
        if served is not None:
            served.stop()
        for fault in faults.values():
            fault.stop()
        registry.stop()
    outcomes, cut_off, tracebacks = hostile_outcomes(
        served.log, soak.hostile_uids, soak.hostile_sent
    )
    tallies = {"warm": soak.warm, "cold": soak.cold, "hostile": soak.hostile}
    every = [*tallies.values(), soak.probes]
    requests = sum(len(t.latencies) for t in every)
    server_errors = sum(n for t in every for s, n in t.statuses.items() if s >= 500)
    error_answers = sum(
        n for t in every for v, n in t.verdicts.items() if v not in (fuzz.OK, "wrong-decision")
    )
    wrong = sum(t.verdicts["wrong-decision"] for t in every)
    lifetimes = outlived(faults["drip"], soak.hostile_sent)
    warm_count = len(soak.warm.latencies)
    result: dict[str, Any] = {
        "what": "slimgate serve over TLS (1 worker, enforce mode, default limits and 4 s review "
        "deadline) under steady warm reviews, kubelet-style probes, a trickle of cold images "
        "pushed to a local docker-registry and hostile images on a dripping / gzip-bomb / "
        "nested-JSON registry",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "seconds": round(soak.elapsed, 1),
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "requests": requests,
        "server_errors_5xx": server_errors,
        "error_answers": error_answers,
        "wrong_decisions": wrong,
        "warm_reviews_per_second": round(warm_count / soak.elapsed, 1),
        "warm_sends_behind_schedule": soak.late_sends,
        "traffic": {name: tally.summary() for name, tally in tallies.items()}
        | {"probes": soak.probes.summary()},
        "hostile_images": {
            "sent": Counter(kind for kind, _ in soak.hostile_sent.values()),
            "outcomes_logged": outcomes,
            "cut_off_by_the_review_deadline": cut_off,
            **lifetimes,
        },
        "worker": {
            "start": sampler.samples[0][1],
            "end": at_end,
            "max": sampler.maximum(),
            "idle_after": idle,
            "every_minute": sampler.timeline(),
        },
        "server_log_tracebacks": tracebacks,
        "metrics": metrics,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "worker"}, indent=2))
    print(json.dumps(result["worker"]["start"]), json.dumps(result["worker"]["end"]))
    bad = server_errors + error_answers + wrong + tracebacks
    bad += lifetimes["lookups_outliving_the_deadline_by_more_than_1s"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

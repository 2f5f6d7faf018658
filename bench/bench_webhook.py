"""Webhook benchmark: warm-path throughput and latency against a static TLS ceiling,
concurrency economy of the registry client, and memory with 10,000 cached images.

Run from the repository root: ``python bench/bench_webhook.py``. Results go to
``bench/results/webhook.json``. Everything runs on 127.0.0.1 in one go so the ratios compare
like with like on a shared, noisy machine:

1. warm path: a 3-container Pod review whose images are cached, over TLS with keep-alive,
   driven by ``wrk`` (``bench/wrk/post.lua``), and the same load against nginx returning a
   canned AdmissionReview (``bench/nginx.conf.template``): throughput, p50/p99, ratio. Also
   against the same canned answer from uvicorn configured as ``slimgate serve`` configures
   it (``bench/static_asgi.py``), the ceiling of the server the webhook runs on;
2. paced: about 200 requests/s (``bench/wrk/paced.lua``: a per-connection ``delay()``,
   since Debian's ``wrk`` has no ``-R``): p50/p99;
3. economy: 100 concurrent reviews of one uncached image -> registry requests, compared
   with the requests of one review of another uncached image;
4. memory: RSS of the serving worker after 10,000 distinct images have been cached.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import admission  # noqa: E402
from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import free_port, start_registry  # noqa: E402

from slimgate.runtime.devcert import write_dev_certificates  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results" / "webhook.json"


def wrk(
    url: str,
    script: str,
    body: Path,
    *,
    connections: int,
    seconds: int,
    threads: int = 1,
    delay_ms: float | None = None,
) -> dict[str, float]:
    env = {**os.environ, "BODY": str(body)}
    if delay_ms is not None:
        env["DELAY_MS"] = str(delay_ms)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(BENCH / "wrk" / script),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    return parse_wrk(out)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    result: dict[str, float] = {}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["requests_per_second"] = float(rps.group(1)) if rps else 0.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            result[f"p{pct}_ms"] = round(_ms(m.group(1), m.group(2)), 3)
    total = re.search(r"(\d+) requests in", out)
    result["requests"] = float(total.group(1)) if total else 0.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    if sock:
        result["errors"] += sum(float(g) for g in sock.groups())
    return result


class Webhook:
    def __init__(
        self, root: Path, config: Path, cert: Path, key: Path, ca: Path, workers: int, threads: int
    ) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.log = (root / f"webhook-{workers}.log").open("wb")
        env = {
            **os.environ,
            "SLIMGATE_WEBHOOK_WORKERS": str(workers),
            "SLIMGATE_WEBHOOK_THREADS": str(threads),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "slimgate.webhook.serve",
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--tls-cert",
                str(cert),
                "--tls-key",
                str(key),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
        self.context = ssl.create_default_context(cafile=str(ca))
        self.client = httpx.Client(verify=self.context, timeout=30, trust_env=False)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.client.get(f"{self.url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def review(self, body: dict[str, Any], client: httpx.Client | None = None) -> dict[str, Any]:
        answer = (client or self.client).post(f"{self.url}/validate", json=body)
        answer.raise_for_status()
        return answer.json()["response"]  # type: ignore[no-any-return]

    def registry_requests(self) -> int:
        text = self.client.get(f"{self.url}/metrics").text
        return int(
            sum(
                float(v)
                for v in re.findall(
                    r"^slimgate_registry_requests_total\{[^}]*\} ([\d.e+]+)$", text, re.M
                )
            )
        )

    def worker_rss_mb(self) -> float:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        # several workers run under a supervisor process; one worker is the process itself
        pids = [int(p) for p in children.read_text().split()] or [self.process.pid]
        rss = 0.0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = max(rss, int(line.split()[1]) / 1024)
        return round(rss, 1)

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


class Nginx:
    def __init__(self, root: Path, cert: Path, key: Path, body: str) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        folder = root / "nginx"
        folder.mkdir()
        template = string.Template((BENCH / "nginx.conf.template").read_text())
        conf = folder / "nginx.conf"
        conf.write_text(
            template.substitute(
                ROOT=folder, PORT=self.port, CERT=cert, KEY=key, BODY=body.replace("'", "\\'")
            )
        )
        self.process = subprocess.Popen(
            ["nginx", "-p", str(folder), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        if self.process.poll() is not None:
            raise RuntimeError((folder / "nginx-error.log").read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(timeout=30)


class ServerStatic:
    """``bench/static_asgi.py`` under uvicorn with the protocol, loop and keep-alive of
    ``slimgate serve`` (``serve.server_config``)."""

    def __init__(self, root: Path, cert: Path, key: Path, response: str, workers: int) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        canned = root / "static-response.json"
        canned.write_text(response)
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH)),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *(
                    "--workers",
                    str(workers),
                    "--loop",
                    "slimgate.webhook.connections:new_event_loop",
                ),
                *("--http", "slimgate.webhook.connections:BoundedHttpProtocol"),
                *("--timeout-keep-alive", "75", "--ssl-certfile", str(cert)),
                *("--ssl-keyfile", str(key), "--log-level", "warning", "--no-access-log"),
                "static_asgi:app",
            ],
            env={**os.environ, "SLIMGATE_BENCH_RESPONSE": str(canned)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the static responder did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def measure_warm(
    hook: Webhook,
    nginx: Nginx,
    static: ServerStatic,
    body_file: Path,
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    for _ in range(3):  # warm the caches and the connection
        wrk(f"{hook.url}/validate", "post.lua", body_file, connections=2, seconds=1)
    webhook = wrk(
        f"{hook.url}/validate", "post.lua", body_file, connections=connections, seconds=seconds
    )
    ceiling = wrk(
        f"{nginx.url}/validate", "post.lua", body_file, connections=connections, seconds=seconds
    )
    server = wrk(
        f"{static.url}/validate", "post.lua", body_file, connections=connections, seconds=seconds
    )
    paced_connections = 10
    paced = wrk(
        f"{hook.url}/validate",
        "paced.lua",
        body_file,
        connections=paced_connections,
        seconds=seconds,
        delay_ms=paced_connections * 1000 / 200,
    )
    return {
        "webhook": webhook,
        "static_nginx": ceiling,
        "ratio_to_static": round(
            webhook["requests_per_second"] / max(ceiling["requests_per_second"], 1), 3
        ),
        "static_server": server,
        "ratio_to_static_server": round(
            webhook["requests_per_second"] / max(server["requests_per_second"], 1), 3
        ),
        "static_server_to_static_nginx": round(
            server["requests_per_second"] / max(ceiling["requests_per_second"], 1), 3
        ),
        "paced_200_rps": paced,
    }


def measure_economy(hook: Webhook, registry_url: str, host: str) -> dict[str, Any]:
    one = f"{host}/economy/one:1"
    many = f"{host}/economy/many:1"
    push(registry_url, "economy/one", "1", build_image(ImageSpec(labels={"n": "one"})))
    push(registry_url, "economy/many", "1", build_image(ImageSpec(labels={"n": "many"})))
    before = hook.registry_requests()
    hook.review(admission.review(admission.pod([one])))
    single = hook.registry_requests() - before
    barrier = threading.Barrier(100)
    clients = [
        httpx.Client(
            verify=hook.context,
            timeout=30,
            trust_env=False,
        )
        for _ in range(100)
    ]
    for c in clients:  # open the connections first, so the 100 reviews really overlap
        c.get(f"{hook.url}/healthz")

    def go(c: httpx.Client) -> bool:
        barrier.wait()
        return bool(hook.review(admission.review(admission.pod([many])), c)["allowed"])

    before = hook.registry_requests()
    with ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(go, clients))
    concurrent = hook.registry_requests() - before
    for c in clients:
        c.close()
    return {
        "registry_requests_one_review": single,
        "registry_requests_100_concurrent_reviews": concurrent,
        "all_answered": all(answers) and len(answers) == 100,
    }


def measure_memory(hook: Webhook, registry_url: str, host: str, count: int) -> dict[str, Any]:
    rss_before = hook.worker_rss_mb()
    started = time.monotonic()

    def push_one(i: int) -> None:
        push(
            registry_url,
            "memory/app",
            f"v{i}",
            build_image(ImageSpec(annotations={"build": str(i)})),
        )

    push_one(0)  # uploads the shared layer once: concurrent uploads of one blob can collide
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(push_one, range(1, count)))
    pushed = time.monotonic() - started
    per_pod = 10
    bodies = [
        admission.review(
            admission.pod([f"{host}/memory/app:v{i}" for i in range(j, min(j + per_pod, count))])
        )
        for j in range(0, count, per_pod)
    ]
    started = time.monotonic()
    local = threading.local()

    def send(body: dict[str, Any]) -> bool:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                verify=hook.context,
                timeout=60,
                trust_env=False,
            )
        return "warnings" not in hook.review(body, local.client)

    with ThreadPoolExecutor(8) as pool:
        clean = sum(pool.map(send, bodies))
    reviewed = time.monotonic() - started
    return {
        "images": count,
        "rss_mb_before": rss_before,
        "rss_mb_after": hook.worker_rss_mb(),
        "reviews_without_warnings": clean,
        "reviews": len(bodies),
        "push_seconds": round(pushed, 1),
        "review_seconds": round(reviewed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=16)  # serve's default
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    root = Path(tempfile.mkdtemp(prefix="slimgate-bench-"))
    certs = write_dev_certificates(root)
    registry = start_registry(root / "registry")
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "runs": {}}
    try:
        host = registry.host
        names = []
        for i in range(3):
            push(registry.url, f"warm/app{i}", "1", build_image(ImageSpec(labels={"i": str(i)})))
            names.append(f"{host}/warm/app{i}:1")
        body = admission.review(admission.pod(names))
        body_file = root / "review.json"
        body_file.write_text(json.dumps(body))
        config = root / "config.yaml"
        config.write_text(
            f'registry:\n  insecure: ["{host}"]\n'
            "  cache: {maxEntries: 20000}\nwebhook:\n  timeoutSeconds: 5\n"
        )
        for workers in args.workers:
            hook = Webhook(root, config, certs.cert, certs.key, certs.ca, workers, args.threads)
            try:
                canned = json.dumps(hook.review(body) | {}, separators=(",", ":"))
                response = json.dumps(
                    {
                        "apiVersion": "admission.k8s.io/v1",
                        "kind": "AdmissionReview",
                        "response": json.loads(canned),
                    },
                    separators=(",", ":"),
                )
                (root / f"w{workers}").mkdir()
                folder = root / f"w{workers}"
                nginx = Nginx(folder, certs.cert, certs.key, response)
                static = ServerStatic(folder, certs.cert, certs.key, response, workers)
                try:
                    run: dict[str, Any] = {"workers": workers, "threads": args.threads}
                    run["warm"] = measure_warm(
                        hook, nginx, static, body_file, args.seconds, args.connections
                    )
                finally:
                    nginx.stop()
                    static.stop()
                if workers == 1:
                    run["economy"] = measure_economy(hook, registry.url, host)
                    run["memory"] = measure_memory(hook, registry.url, host, args.images)
                result["runs"][f"workers={workers}"] = run
                print(json.dumps(run, indent=2), flush=True)
            finally:
                hook.stop()
    finally:
        registry.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What hostile connections cost ``slimgate serve``: memory and time, with its default limits.

Run from the repository root: ``python bench/bench_connections.py``. Results go to
``bench/results/connections.json``. One ``slimgate serve`` (defaults: 5 s for a TLS
handshake and for a request head, 1,000 open connections, 75 s keep-alive) is measured for:

1. churn: RSS after 1,000 and after 21,000 new TLS connections to ``/healthz`` (one ``GET``
   each, closed by the client, as kubelet probes do);
2. slowloris: ``--slowloris`` TLS connections that each send half a request head and stop,
   opened as fast as one client can: how many the server kept, its RSS at the peak, how long
   until it had closed them all, its RSS afterwards, and how long a healthy ``/healthz``
   took meanwhile (its connection is refused while the cap is full, so it is retried), and
   its RSS 15 s later;
3. how long the server holds a connection that never starts TLS, one that sends nothing
   after the handshake, and one that sends half a head.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.hostile_client import (  # noqa: E402
    Target,
    churn,
    closed_by_server,
    read_response,
    request_bytes,
    rss_mb,
)
from tests.support.served import ServedWebhook  # noqa: E402

from slimgate.runtime.devcert import write_dev_certificates  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "connections.json"


def healthy_get(target: Target, within: float = 30.0) -> float:
    """Seconds until a new connection got ``200`` for ``/healthz``, retrying refusals."""
    started = time.monotonic()
    while True:
        try:
            with target.tls() as sock:
                sock.sendall(request_bytes("GET", "/healthz"))
                if read_response(sock)[0] == 200:
                    return time.monotonic() - started
        except (OSError, ConnectionError):
            pass
        if time.monotonic() - started > within:
            return float("inf")
        time.sleep(0.05)


def held_for(target: Target, kind: str) -> float | None:
    if kind == "no TLS handshake":
        sock: socket.socket = target.tcp()
    else:
        sock = target.tls()
        if kind == "half a request head":
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\n")
    with sock:
        return closed_by_server(sock, 120)


def slowloris(target: Target, pid: int, count: int) -> dict[str, Any]:
    before = rss_mb(pid)
    sockets: list[socket.socket] = []
    started = time.monotonic()
    failed = 0
    for _ in range(count):
        try:
            sock = target.tls()
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\n")
            sockets.append(sock)
        except OSError:
            failed += 1
    opened = time.monotonic() - started
    peak = rss_mb(pid)
    kept = sum(closed_by_server(sock, 0.001) is None for sock in sockets)
    healthy: list[float] = []
    probe = threading.Thread(target=lambda: healthy.append(healthy_get(target)))
    probe.start()
    released = None
    while released is None and time.monotonic() - started < 120:
        if all(closed_by_server(sock, 0.001) is not None for sock in sockets):
            released = time.monotonic() - started
        else:
            time.sleep(0.2)
    probe.join()
    for sock in sockets:
        sock.close()
    time.sleep(15)  # the server gives freed memory back some seconds after a burst
    return {
        "connections": count,
        "failed_to_open": failed,
        "seconds_to_open": round(opened, 1),
        "kept_by_server": kept,
        "rss_mb_before": round(before, 1),
        "rss_mb_peak": round(peak, 1),
        "rss_mb_after": round(rss_mb(pid), 1),
        "all_closed_by_server_after_seconds": None if released is None else round(released, 1),
        "healthy_healthz_seconds": round(healthy[0], 2) if healthy else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--churn", type=int, default=20_000)
    parser.add_argument("--slowloris", type=int, default=4_000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.slowloris + 512)), hard))
    root = Path(tempfile.mkdtemp(prefix="slimgate-connections-"))
    certs = write_dev_certificates(root)
    (root / "config.yaml").write_text("webhook:\n  timeoutSeconds: 5\n")
    served = ServedWebhook(
        root, root / "config.yaml", certs.cert, certs.key, certs.ca, ready_within=30
    )
    process = served.process
    target = Target("127.0.0.1", served.port, certs.ca)
    result: dict[str, Any] = {}
    try:
        warm = churn(target, 1_000)
        before = rss_mb(process.pid)
        churned = churn(target, args.churn)
        result["churn"] = {
            "connections": warm.connections + churned.connections,
            "failures": warm.failures + churned.failures,
            "rss_mb_after_1000": round(before, 1),
            f"rss_mb_after_{warm.connections + churned.connections}": round(rss_mb(process.pid), 1),
            "connections_per_second": round(churned.connections / churned.seconds),
        }
        print(json.dumps(result["churn"]), flush=True)
        result["slowloris"] = slowloris(target, process.pid, args.slowloris)
        print(json.dumps(result["slowloris"]), flush=True)
        kinds = ("no TLS handshake", "TLS, then nothing", "half a request head")
        held: dict[str, float | None] = {}
        threads = [
            threading.Thread(target=lambda k=k: held.__setitem__(k, held_for(target, k)))
            for k in kinds
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["held_seconds"] = {k: None if v is None else round(v, 1) for k, v in held.items()}
        print(json.dumps(result["held_seconds"]), flush=True)
    finally:
        served.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reproducer: gunicorn's asgi worker keeps every client-closed keep-alive TLS connection.

Run with gunicorn 27 installed (``pip install -e .[bench]``)::

    python bench/upstream/gunicorn_keepalive_leak.py [--connections 6000] [--fixed]

It starts ``gunicorn -k asgi --asgi-loop uvloop`` over TLS (throwaway certificate) serving a
three-line ASGI app, then opens TLS connections that each send one ``GET`` without
``Connection: close``, read the answer and close (what HTTP probes do). It prints the
worker's RSS, how many ``ASGIProtocol`` objects are still alive (counted inside the worker
without running the garbage collector), and glibc's heap in use. ``--fixed`` loads
``gunicorn_keepalive_fix.py`` in the worker first, which breaks the two things the report
describes; the RSS then stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

APP = """
import ctypes, gc, json, os

if os.environ.get("REPRO_FIXED"):
    import gunicorn_keepalive_fix  # noqa: F401


FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class MallInfo(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in FIELDS.split()]


def heap_in_use():
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo
    return libc.mallinfo2().uordblks


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b"ok"
    if scope["path"] == "/stats":
        from gunicorn.asgi.protocol import ASGIProtocol
        alive = sum(isinstance(o, ASGIProtocol) for o in gc.get_objects())
        stats = {"protocols_alive": alive, "heap_in_use_mb": heap_in_use() >> 20}
        body = json.dumps(stats).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
"""


def certificate(folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from slimgate.runtime.devcert import write_dev_certificates

    certs = write_dev_certificates(folder)
    return certs.cert, certs.key


def get(port: int, path: str, context: ssl.SSLContext) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
        return body  # the client closes here, on a kept-alive connection


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=6000)
    parser.add_argument("--loop", default="uvloop", choices=["uvloop", "asyncio"])
    parser.add_argument("--fixed", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gunicorn-leak-"))
    (folder / "app.py").write_text(APP)
    here = Path(__file__).resolve().parent
    (folder / "gunicorn_keepalive_fix.py").write_text(
        (here / "gunicorn_keepalive_fix.py").read_text()
    )
    cert, key = certificate(folder)
    port = 18000 + os.getpid() % 1000
    env = {**os.environ, **({"REPRO_FIXED": "1"} if args.fixed else {})}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(folder),
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "-k",
            "asgi",
            "--asgi-loop",
            args.loop,
            "--keep-alive",
            "75",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
            "--log-level",
            "warning",
            "app:app",
        ],
        env=env,
    )
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        time.sleep(3)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        print("connections  worker RSS MB  stats")
        print(f"{0:>11}  {rss_mb(worker):>12.1f}  {get(port, '/stats', context).decode()}")
        step = max(args.connections // 6, 1)
        done = 0
        while done < args.connections:
            threads = [
                threading.Thread(target=lambda: [get(port, "/", context) for _ in range(step // 4)])
                for _ in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            done += step // 4 * 4
            time.sleep(4)  # longer than asgi_disconnect_grace_period
            stats = json.loads(get(port, "/stats", context))
            print(f"{done:>11}  {rss_mb(worker):>12.1f}  {json.dumps(stats)}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

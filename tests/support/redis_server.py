"""Start and stop Debian's ``redis-server`` on 127.0.0.1 for tests, with a password.

The store the replicas share (``registry.sharedCache``). The configuration is written to a
file (so the password is not on a command line), persistence is off, and the process is
polled until it answers ``PING`` with the password, then stopped by its PID. ``kill`` ends
it at once, as a store that dies under load.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support import processes
from tests.support.registry_server import free_port

BINARY = "/usr/bin/redis-server"


def available() -> bool:
    return Path(BINARY).exists()


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    password: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def password_file(self) -> Path:
        return self.workdir / "password"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)

    def log(self) -> str:
        return (self.workdir / "redis.log").read_text(errors="replace")

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a store that dies."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        processes.stop(self.process)


def start_redis(workdir: Path, *, port: int | None = None, timeout: float = 20.0) -> RedisServer:
    """Start redis-server in ``workdir`` (on ``port``, by default a free one); ready on return."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    password = secrets.token_hex(16)
    (workdir / "password").write_text(password + "\n")
    (workdir / "redis.conf").write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"requirepass {password}",
                'save ""',
                "appendonly no",
                f"dir {workdir}",
                "daemonize no",
                f"logfile {workdir / 'redis.log'}",
                "maxmemory 256mb",
                "maxmemory-policy allkeys-lru",
            ]
        )
        + "\n"
    )
    process = subprocess.Popen(
        [BINARY, str(workdir / "redis.conf")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port, workdir, password)
    deadline = time.monotonic() + timeout
    client = server.client()
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{server.log()}")
            try:
                if client.ping():
                    return server
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {timeout} s")
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    finally:
        client.close()

"""Start and stop Debian's ``redis-server`` on 127.0.0.1 for tests, with a password.

The store the replicas share (``registry.sharedCache``). The default user has a password
(``requirepass``: ``AUTH password`` logs in); with ``user`` there is also an ACL user with
a password of its own and only what slimgate needs (keys under ``slimgate:``, ``GET``,
``SET``, ``DEL``: :data:`SLIMGATE_ACL`), logged in to with ``AUTH user password``. The
configuration is written to a file (so no password is on a command line), persistence is
off, and the process is polled until it answers ``PING`` with the password, then stopped by
its PID. ``kill`` ends it at once, as a store that dies under load.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support import processes
from tests.support.registry_server import free_port

BINARY = "/usr/bin/redis-server"
SLIMGATE_ACL = "resetchannels ~slimgate:* -@all +get +set +del"
# ``sharedCache`` settings for processes that share a store: a store that stops answering
# costs a request little, and a follower waits while the shared test machine takes a
# second over the leader's fetch.
QUICK = {"timeoutMilliseconds": 200, "retrySeconds": 30, "waitSeconds": 4}


def available() -> bool:
    return Path(BINARY).exists()


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    password: str
    user: str | None = None
    user_password: str | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def password_file(self) -> Path:
        """The default user's password (``requirepass``)."""
        return self.workdir / "password"

    @property
    def user_password_file(self) -> Path:
        """The ACL user's password."""
        return self.workdir / "user-password"

    @property
    def install_secret(self) -> Path:
        """An install's secret (``sharedCache.secretFile``) for the processes of one install
        that share this store."""
        return self.workdir / "install-secret"

    def registry_config(
        self,
        *,
        url: str | None = None,
        password: Path | None = None,
        quick: bool = False,
    ) -> str:
        """A configuration's ``registry:`` block for the tests' registries on 127.0.0.1 that
        shares this store: ``sharedCache`` with this server's url, password file (or ``url``,
        ``password``) and install secret and, if ``quick``, the settings of :data:`QUICK`.
        Further ``registry:`` settings may follow, indented two."""
        settings = {
            "url": url or self.url,
            "passwordFile": password or self.password_file,
            "secretFile": self.install_secret,
            **(QUICK if quick else {}),
        }
        return (
            'registry:\n  insecure: ["127.0.0.1"]\n  knownToolchainImages: []\n  sharedCache:\n'
            + ("".join(f"    {key}: {value}\n" for key, value in settings.items()))
        )

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


def start_redis(workdir: Path, *, user: str | None = None) -> RedisServer:
    """Start redis-server in ``workdir`` on a free port, with the ACL user ``user``
    (:data:`SLIMGATE_ACL`) if given; ready on return (within 20 s)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    password = secrets.token_hex(16)
    (workdir / "password").write_text(password + "\n")
    (workdir / "install-secret").write_text(secrets.token_hex(16) + "\n")
    user_password = secrets.token_hex(16) if user else None
    acl = []
    if user:
        (workdir / "user-password").write_text(f"{user_password}\n")
        acl.append(f"user {user} on >{user_password} {SLIMGATE_ACL}")
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
                'logfile ""',
                "maxmemory 256mb",
                "maxmemory-policy allkeys-lru",
                *acl,
            ]
        )
        + "\n"
    )
    client = redis.Redis(host="127.0.0.1", port=port, password=password)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        process = processes.start(
            [BINARY, str(workdir / "redis.conf")],
            workdir / "redis.log",
            answers,
            name="redis-server",
            timeout=20,
        )
    finally:
        client.close()
    return RedisServer(process, port, workdir, password, user, user_password)

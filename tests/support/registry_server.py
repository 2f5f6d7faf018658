"""Start and stop Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1 for tests.

Modes: anonymous, htpasswd basic auth, token auth (with :mod:`tests.support.token_server`),
each over plain HTTP or TLS with a CA made by ``trustme``. The configuration is the
registry's own YAML (distribution docs/configuration.md); JSON is valid YAML, so it is
written with ``json``. The process is started on a free port, polled until ``/v2/`` answers,
and stopped by its PID.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import trustme

from tests.support import processes
from tests.support.tls import write_serving
from tests.support.token_server import ISSUER, SERVICE, TokenServer

BINARY = "/usr/bin/docker-registry"


def available() -> bool:
    return Path(BINARY).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RegistryServer:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    tls: bool
    ca_path: Path | None = None
    token_server: TokenServer | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What httpx needs to trust this registry."""
        return ssl.create_default_context(cafile=str(self.ca_path)) if self.ca_path else True

    def log(self) -> str:
        return (self.workdir / "registry.log").read_text(errors="replace")

    def accesses(self, method: str | None = None, path_part: str = "/v2/") -> list[str]:
        """Access-log lines (started with ``access_log=True``) of ``method`` requests whose
        path contains ``path_part``: ``"GET /v2/team/api/manifests/1.4 HTTP/1.1" 200``."""
        found = re.findall(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3})', self.log())
        return [
            f"{m} {path} {status}"
            for m, path, status in found
            if (method is None or m == method) and path_part in path
        ]

    def reads(self, repository: str) -> list[str]:
        """What was read of ``repository``: the GETs and the manifest HEADs the access log
        holds (a push's blob HEADs left out), oldest first."""
        return [
            line
            for line in self.accesses(path_part=f"/v2/{repository}/")
            if line.startswith(("GET ", f"HEAD /v2/{repository}/manifests/"))
        ]

    def stop(self) -> None:
        processes.stop(self.process)


def start_registry(
    workdir: Path,
    *,
    htpasswd: tuple[str, str] | None = None,
    token: TokenServer | None = None,
    tls_ca: trustme.CA | None = None,
    tls_names: Sequence[str] = (),
    access_log: bool = False,
) -> RegistryServer:
    """Start a registry in ``workdir``; it is ready when this returns. With ``access_log``
    every request is logged (:meth:`RegistryServer.accesses` reads them). With ``tls_ca``
    its certificate names 127.0.0.1, localhost and ``tls_names``."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": not access_log}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "slimgate-test-secret"},
    }
    if htpasswd is not None:
        user, password = htpasswd
        line = subprocess.run(
            ["htpasswd", "-Bbn", user, password], check=True, capture_output=True
        ).stdout
        (workdir / "htpasswd").write_bytes(line.strip() + b"\n")
        config["auth"] = {"htpasswd": {"realm": "slimgate-test", "path": str(workdir / "htpasswd")}}
    elif token is not None:
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(token.write_root_bundle(workdir / "token-ca.pem")),
            }
        }
    ca_path: Path | None = None
    if tls_ca is not None:
        ca_path, cert, key = write_serving(tls_ca, workdir, "127.0.0.1", "localhost", *tls_names)
        config["http"]["tls"] = {"certificate": str(cert), "key": str(key)}
    (workdir / "config.yml").write_text(json.dumps(config, indent=2))
    url = f"{'https' if tls_ca else 'http'}://127.0.0.1:{port}/v2/"
    verify = ssl.create_default_context(cafile=str(ca_path)) if ca_path else True
    with httpx.Client(verify=verify, timeout=2, trust_env=False) as client:

        def answers() -> bool:
            try:
                return client.get(url).status_code in (200, 401)
            except httpx.TransportError:
                return False

        process = processes.start(
            [BINARY, "serve", str(workdir / "config.yml")],
            workdir / "registry.log",
            answers,
            name="docker-registry",
            timeout=20,
        )
    return RegistryServer(
        process=process,
        port=port,
        workdir=workdir,
        tls=tls_ca is not None,
        ca_path=ca_path,
        token_server=token,
    )

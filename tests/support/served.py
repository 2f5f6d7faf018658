"""``slimgate serve`` as a child process over TLS on 127.0.0.1, ready when ``/readyz`` is.

The one way tests and benchmarks start the webhook: the command (``slimgate serve`` of the
interpreter under test, or the chart's own ``argv``), one readiness loop, the log kept in
``workdir`` for assertions and failure messages, and a stop that ends the process.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.support import processes
from tests.support.registry_server import free_port


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of metric ``name`` (labels may follow, as ``name{a="b"}``) over the series
    that carry ``labels``, in the metrics page ``text``."""
    prefixes = (f"{name}{{", f"{name} ")
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefixes) and all(label in line for label in wanted)
    )


class ServedWebhook:
    """Start ``slimgate serve --config config --tls-cert cert --tls-key key`` (plus ``extra``)
    on ``port`` (a free one by default), or run ``argv`` as it is; trust ``ca``. Requests go
    to 127.0.0.1 and verify the certificate for ``server_name`` (by default the address).
    ``launcher`` is what runs before those options (another launcher of the same ``run``,
    such as :mod:`tests.support.resolving_serve`)."""

    def __init__(
        self,
        workdir: Path,
        config: Path,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        extra: Sequence[str] = (),
        argv: Sequence[str] | None = None,
        launcher: Sequence[str] = (sys.executable, "-m", "slimgate.main", "serve"),
        port: int | None = None,
        server_name: str | None = None,
        env: Mapping[str, str] = {},
        ready_within: float = 60.0,
    ) -> None:
        self.port = port or free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.config, self.ca = config, ca
        self.log = workdir / f"webhook-{self.port}.log"
        command = argv or [
            *(*launcher, "--config", str(config)),
            *("--tls-cert", str(cert), "--tls-key", str(key)),
            *("--host", "127.0.0.1", "--port", str(self.port), *extra),
        ]
        self._sni = {"sni_hostname": server_name} if server_name else {}
        self.http = self.client()
        try:
            self.process = processes.start(
                command,
                self.log,
                self._ready,
                name="slimgate serve",
                timeout=ready_within,
                env={**os.environ, "SLIMGATE_WEBHOOK_WORKERS": "1", **env},
                cwd=workdir,
            )
        except BaseException:
            self.http.close()
            raise

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def client(self) -> httpx.Client:
        """A new client, with connections of its own, that trusts ``ca``."""
        return httpx.Client(verify=self.context(), timeout=10, trust_env=False)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(f"{self.url}{path}", extensions=self._sni)

    def post(self, body: Any) -> httpx.Response:
        return self.http.post(f"{self.url}/validate", json=body, extensions=self._sni)

    def review(self, body: Any) -> dict[str, Any]:
        """The AdmissionReview response to ``body``, checked for version and uid."""
        answer = self.post(body)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert document["apiVersion"] == "admission.k8s.io/v1"
        assert document["response"]["uid"] == body["request"]["uid"]
        return document["response"]  # type: ignore[no-any-return]

    def metric(self, name: str) -> float:
        """The sum of metric ``name`` over its labels, as ``/metrics`` shows it now."""
        return metric(self.get("/metrics").text, name)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def decisions(self) -> list[dict[str, Any]]:
        """Every ``admission decision`` the webhook logged, oldest first."""
        found: list[dict[str, Any]] = []
        for line in self.log_text().splitlines():
            try:
                entry = json.loads(line) if line.startswith("{") else None
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "admission decision":
                found.append(entry)
        return found

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        """Stop the process (SIGTERM, then SIGKILL after 30 s); its exit code."""
        self.http.close()
        return processes.stop(self.process, grace=30)

    def _ready(self) -> bool:
        try:
            return self.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

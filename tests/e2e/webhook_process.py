"""slimgate's webhook as a local process that a real kube-apiserver calls.

There is no kubelet, so the tests play its part: the configuration rendered
by the chart is laid out as a ConfigMap volume (``..data`` swapped atomically
on update, which the webhook reloads), the serving certificate is written
to files, and ``slimgate serve`` runs under uvicorn over TLS on 127.0.0.1.
Its JSON log is kept so that tests can see which reviews it was sent.
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.support.registry_server import free_port


class WebhookProcess:
    """``slimgate serve`` over TLS on 127.0.0.1, reading ``config_dir/config.yaml``."""

    def __init__(
        self,
        workdir: Path,
        config_dir: Path,
        cert: Path,
        key: Path,
        ca: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] = {},
    ) -> None:
        self.workdir = workdir
        self.config_dir = config_dir
        self.port = port or free_port()
        self.log_path = workdir / f"webhook-{self.port}.log"
        command = [
            *(sys.executable, "-m", "slimgate.main", "serve"),
            *("--config", str(config_dir / "config.yaml")),
            *("--tls-cert", str(cert), "--tls-key", str(key)),
            *("--host", "127.0.0.1", "--port", str(self.port)),
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "SLIMGATE_WEBHOOK_WORKERS": "1", **env},
            )
        self._client = httpx.Client(
            verify=ssl.create_default_context(cafile=str(ca)), timeout=10, trust_env=False
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def validate_url(self) -> str:
        return f"{self.url}/validate"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def decisions(self) -> list[dict[str, Any]]:
        """Every ``admission decision`` the webhook logged, oldest first."""
        found: list[dict[str, Any]] = []
        for line in self.log_text().splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "admission decision":
                found.append(entry)
        return found

    def reviews_total(self) -> float:
        """The sum of ``slimgate_admission_requests_total`` over its labels."""
        text = self._client.get(f"{self.url}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("slimgate_admission_requests_total{")
        )

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """Stop the process this object started (SIGTERM, then SIGKILL)."""
        self._client.close()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            if self._process.poll() is not None:
                raise AssertionError(f"the webhook exited:\n{self.log_text()}")
            try:
                if self._client.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the webhook was not ready:\n{self.log_text()}")
            time.sleep(0.2)

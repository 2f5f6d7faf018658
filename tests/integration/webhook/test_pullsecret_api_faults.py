"""The real Kubernetes client as pull-secret reader, against an API server that is down or
drops every connection: the review is answered inside its deadline with one attempt per
read (no client retries), the failure is counted, and the image gets ``onRegistryError``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slimgate.cluster.secrets import KubernetesSecrets
from slimgate.config import parse_settings
from slimgate.webhook.app import create_app
from slimgate.webhook.generations import Composer
from slimgate.webhook.metrics import WebhookMetrics
from tests.support import admission
from tests.support.registry_server import free_port
from tests.unit.webhook.conftest import post

DEADLINE = 1.0


class Dropping:
    """Accepts connections, counts them and closes each at once without answering."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.socket.settimeout(0.1)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close()


@pytest.fixture
def dropping() -> Iterator[Dropping]:
    server = Dropping()
    yield server
    server.close()


def kubeconfig(directory: Path, port: int) -> str:
    path = directory / "kubeconfig"
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: test, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: test, user: {{token: not-a-secret}}}}]
contexts: [{{name: test, context: {{cluster: test, user: test}}}}]
current-context: test
"""
    )
    return str(path)


def answer(config_path: str, registry_port: int) -> tuple[dict, float, WebhookMetrics]:  # type: ignore[type-arg]
    config = parse_settings(
        f"""
registry:
  insecure: ["127.0.0.1"]
  pullSecrets: true
policy:
  onRegistryError: deny
webhook:
  timeoutSeconds: 2
  deadlineSeconds: {DEADLINE}
""",
        "test-config.yaml",
    )
    metrics = WebhookMetrics()
    composer = Composer(metrics, secrets=lambda: KubernetesSecrets(config_path))
    wiring = composer.build(config)
    app = create_app(wiring.settings, wiring.engine, engine_for=wiring.engine_for, metrics=metrics)
    image = f"127.0.0.1:{registry_port}/team/private:1"
    pod = admission.pod([image], namespace="shop", pull_secrets=["regcred"])
    try:
        started = time.monotonic()
        response = post(app.test_client(), admission.review(pod))
        elapsed = time.monotonic() - started
    finally:
        app.extensions["slimgate"]["pool"].shutdown(wait=True, cancel_futures=True)
        composer.close()
    assert response["allowed"] is False  # onRegistryError: deny, never a blanket allow
    assert f"image {image}" in response["status"]["message"]
    return response, elapsed, metrics


def test_an_api_server_that_is_down_costs_less_than_the_deadline(tmp_path: Path) -> None:
    _, elapsed, metrics = answer(kubeconfig(tmp_path, free_port()), free_port())
    assert elapsed < DEADLINE
    assert metrics.registry.get_sample_value("slimgate_pull_secret_errors_total") == 1


def test_the_client_does_not_retry(tmp_path: Path, dropping: Dropping) -> None:
    _, elapsed, metrics = answer(kubeconfig(tmp_path, dropping.port), free_port())
    assert elapsed < DEADLINE
    # One attempt at the ServiceAccount; the API is then known to be unreachable and the
    # pod's secret is not tried. urllib3's default would have made four attempts.
    assert dropping.connections == 1
    assert metrics.registry.get_sample_value("slimgate_pull_secret_errors_total") == 1

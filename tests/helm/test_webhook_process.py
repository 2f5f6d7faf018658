"""The chart's webhook container, run as a local process from what the chart renders.

No kubelet here, so this test plays its part: it lays the rendered ConfigMap
out as the kubelet does (``..data`` symlink swapped atomically on update),
writes the rendered TLS Secret, starts ``slimgate`` with the Deployment's own
arguments, and checks that the probes answer over HTTPS for the Service's DNS
name, that the `helm test` hook's script passes against it, and that a
ConfigMap update reaches the running webhook through the directory mount.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.chart import Helm, Rendering, container
from tests.support.registry_server import free_port
from tests.support.served import ServedWebhook
from tests.support.volumes import project

REVIEW_IMAGE = "127.0.0.1:9/slimgate-test/none:1"  # fails fast: nothing listens there


@dataclass
class RunningWebhook:
    rendering: Rendering
    served: ServedWebhook
    host: str  # the Service DNS name the certificate carries
    config_dir: Path

    @property
    def port(self) -> int:
        return self.served.port


def rendered_files(rendering: Rendering) -> tuple[dict[str, str], dict[str, str]]:
    config = rendering.one("ConfigMap", "slimgate-config")["data"]
    secret = rendering.one("Secret")["data"]
    tls = {key: base64.b64decode(value).decode() for key, value in secret.items()}
    return dict(config), tls


@pytest.fixture
def webhook(helm: Helm, tmp_path: Path) -> Iterator[RunningWebhook]:
    # the console script of the environment under test, not whichever is first on PATH
    executable = Path(sys.executable).with_name("slimgate")
    assert executable.is_file(), "the slimgate console script is not installed"
    port = free_port()
    rendering = helm.template(
        values={
            "webhook.port": port,
            "webhook.service.port": port,
            "test.reviewImage": REVIEW_IMAGE,
            "config.policy": {"mode": "enforce", "onRegistryError": "warn"},
        }
    )
    config, tls = rendered_files(rendering)
    config_dir, tls_dir = tmp_path / "etc-slimgate", tmp_path / "etc-slimgate-tls"
    project(config_dir, config, 1)
    project(tls_dir, tls, 1)

    main = container(rendering.one("Deployment", "slimgate-webhook"), "webhook")
    args = [
        arg.replace("/etc/slimgate-tls/", f"{tls_dir}/").replace("/etc/slimgate/", f"{config_dir}/")
        for arg in main["args"]
    ]
    host = "slimgate-webhook.slimgate.svc"
    served = ServedWebhook(
        tmp_path,
        config_dir / "config.yaml",
        tls_dir / "tls.crt",
        tls_dir / "tls.key",
        tls_dir / "ca.crt",
        argv=[str(executable), *args],
        port=port,
        server_name=host,  # connect to loopback, verify the certificate for the Service name
    )
    try:
        yield RunningWebhook(rendering, served, host, config_dir)
    finally:
        served.stop()


def test_probes_answer_over_https_for_the_service_name(webhook: RunningWebhook) -> None:
    main = container(webhook.rendering.one("Deployment", "slimgate-webhook"), "webhook")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = main[probe]["httpGet"]["path"]
        assert webhook.served.get(path).status_code == 200, probe
    assert webhook.served.get("/metrics").status_code == 200


def test_helm_test_hook_passes_against_the_webhook(webhook: RunningWebhook, tmp_path: Path) -> None:
    rendering = webhook.rendering
    hook_pod = next(
        p for p in rendering.all("Pod") if "helm.sh/hook" in p["metadata"]["annotations"]
    )
    hook_config = next(
        c
        for c in rendering.all("ConfigMap")
        if c["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    )
    # Lay out the pod's mounts under tmp_path and send the Service name to loopback.
    test_dir = tmp_path / "test"
    (test_dir / "review").mkdir(parents=True)
    (test_dir / "ca").mkdir()
    (test_dir / "review" / "review.json").write_text(hook_config["data"]["review.json"])
    shutil.copy(webhook.served.ca, test_dir / "ca" / "ca.crt")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = shutil.which("curl")
    assert curl is not None, "curl is needed to run the helm test script"
    wrapper = bin_dir / "curl"
    wrapper.write_text(
        f'#!/bin/sh\nexec {curl} --resolve {webhook.host}:{webhook.port}:127.0.0.1 "$@"\n'
    )
    wrapper.chmod(0o755)

    main = pod_spec_container(hook_pod)
    script = "\n".join(main["args"]).replace("/test/", f"{test_dir}/")
    result = subprocess.run(
        ["/bin/sh", "-ec", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: the webhook answered the AdmissionReview over verified TLS" in result.stdout


def pod_spec_container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["spec"]["containers"]
    found: dict[str, Any] = only
    return found


def test_a_configmap_update_reaches_the_running_webhook(
    webhook: RunningWebhook, helm: Helm
) -> None:
    review = json.loads(
        next(
            c
            for c in webhook.rendering.all("ConfigMap")
            if c["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
        )["data"]["review.json"]
    )
    before = webhook.served.review(review)
    assert before["allowed"] is True  # the registry cannot be read: onRegistryError warn
    assert before.get("warnings")

    updated = helm.template(
        values={
            "webhook.port": webhook.port,
            "webhook.service.port": webhook.port,
            "config.policy": {"mode": "enforce", "onRegistryError": "deny"},
        }
    )
    config = updated.one("ConfigMap", "slimgate-config")["data"]
    project(webhook.config_dir, dict(config), 2)

    deadline = time.monotonic() + 30
    while True:
        after = webhook.served.review(review)
        if after["allowed"] is False:
            break
        assert time.monotonic() < deadline, f"the webhook kept the old configuration: {after}"
        time.sleep(0.5)
    assert after["uid"] == before["uid"]

"""The webhook served by ``slimgate serve`` over real TLS, answering reviews shaped as the
apiserver sends them, about images in a real registry."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator

import pytest
import trustme

from tests.integration.webhook.conftest import Images
from tests.support import admission
from tests.support.served import ServedWebhook
from tests.support.tls import write_serving
from tests.unit.webhook.test_operations import mount_configmap

pytestmark = pytest.mark.registry

CONFIG = """
registry:
  insecure: ["127.0.0.1"]
policy:
  mode: {mode}
  namespaceModes: {{legacy: warn}}
webhook:
  timeoutSeconds: 5
"""


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, test_ca: trustme.CA
) -> Iterator[ServedWebhook]:
    root = tmp_path_factory.mktemp("webhook")
    ca, cert, key = write_serving(test_ca, root, "127.0.0.1", "localhost")
    mounted = root / "configmap"
    mounted.mkdir()
    config = mount_configmap(mounted, CONFIG.format(mode="enforce"), 1)
    served = ServedWebhook(root, config, cert, key, ca)
    try:
        yield served
    finally:
        served.stop()


def test_toolchain_pod_is_denied(server: ServedWebhook, images: Images) -> None:
    response = server.review(admission.review(admission.pod([images.small, images.golang])))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    message = response["status"]["message"]
    assert f'spec.containers[1] ("c1") image {images.golang}' in message
    assert "toolchain-base" in message
    assert images.small not in message


def test_deployment_in_warn_namespace_gets_template_path_warnings(
    server: ServedWebhook, images: Images
) -> None:
    obj = admission.workload("Deployment", [images.golang], namespace="legacy")
    response = server.review(admission.review(obj))
    assert response["allowed"] is True
    assert response["warnings"]
    for line in response["warnings"]:
        assert line.startswith("spec.template.spec.containers[0].image: ")
        assert len(line) <= 120


def test_cronjob_is_denied_through_the_job_template(server: ServedWebhook, images: Images) -> None:
    response = server.review(admission.review(admission.workload("CronJob", [images.golang])))
    assert response["allowed"] is False
    assert "spec.jobTemplate.spec.template.spec.containers[0]" in response["status"]["message"]


def test_ephemeral_container_update_checks_only_the_new_debugger(
    server: ServedWebhook, images: Images
) -> None:
    # The running pod already has the toolchain image; only the debugger is new.
    body = admission.ephemeral_update([images.golang], images.debug)
    assert server.review(body) == {"uid": body["request"]["uid"], "allowed": True}
    body = admission.ephemeral_update([images.small], images.golang)
    response = server.review(body)
    assert response["allowed"] is False
    assert "spec.ephemeralContainers[0]" in response["status"]["message"]


def test_dry_run_is_answered_like_the_real_thing(server: ServedWebhook, images: Images) -> None:
    obj = admission.pod([images.golang])
    real = server.review(admission.review(obj, uid="same"))
    dry = server.review(admission.review(obj, uid="same", dry_run=True))
    assert dry == real


def test_requests_reuse_one_tls_connection(server: ServedWebhook, images: Images) -> None:
    context = server.context()
    port = server.port
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    body = json.dumps(admission.review(admission.pod([images.small])))
    sockets = set()
    try:
        for _ in range(5):
            connection.request(
                "POST", "/validate", body=body, headers={"Content-Type": "application/json"}
            )
            answer = connection.getresponse()
            assert answer.status == 200
            assert answer.getheader("Connection", "").lower() != "close"
            assert json.loads(answer.read())["response"]["allowed"] is True
            assert connection.sock is not None
            sockets.add(id(connection.sock))
    finally:
        connection.close()
    assert len(sockets) == 1  # http.client opens a new socket whenever the server closed one


def test_bad_input_gets_a_400_and_the_server_lives_on(
    server: ServedWebhook, images: Images
) -> None:
    answer = server.http.post(f"{server.url}/validate", content=b"{not json")
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["reason"]
    huge = b'{"pad": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    answer = server.http.post(f"{server.url}/validate", content=huge)
    assert answer.status_code == 400
    assert "larger than" in answer.json()["reason"]
    assert answer.headers["connection"] == "close"  # the unread rest ends the connection
    envelope = {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}
    answer = server.post(envelope)
    assert answer.status_code == 400
    assert server.review(admission.review(admission.pod([images.small])))["allowed"] is True


def test_metrics_over_https(server: ServedWebhook, images: Images) -> None:
    server.review(admission.review(admission.pod([images.small])))
    text = server.get("/metrics").text
    assert "slimgate_admission_requests_total{" in text
    assert "slimgate_registry_requests_total{" in text
    assert "slimgate_admission_duration_seconds_bucket{" in text


def test_config_map_swap_is_picked_up(server: ServedWebhook, images: Images) -> None:
    body = admission.review(admission.pod([images.golang]))
    assert server.review(body)["allowed"] is False
    mount_configmap(server.config.parent, CONFIG.format(mode="audit"), 2)
    try:
        deadline = time.monotonic() + 15
        while server.review(body)["allowed"] is False:
            assert time.monotonic() < deadline, "configuration not reloaded"
            time.sleep(0.3)
        assert "warnings" not in server.review(body)  # audit mode: allowed, silent
        mount_configmap(server.config.parent, "policy: {mode: sideways}\n", 3)
        deadline = time.monotonic() + 15
        # the reload runs on a thread of its own: the failure shows once it has run
        while "slimgate_config_reload_failures_total 1.0" not in server.get("/metrics").text:
            assert time.monotonic() < deadline, "the bad file was never looked at"
            assert server.review(body)["allowed"] is True
            time.sleep(0.3)
        assert server.review(body)["allowed"] is True  # the bad file left audit mode in place
    finally:
        mount_configmap(server.config.parent, CONFIG.format(mode="enforce"), 4)
    assert os.path.islink(server.config)

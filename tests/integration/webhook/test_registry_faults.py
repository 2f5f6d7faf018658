"""Registry faults through the real registry client: each ends in the configured decision
inside the deadline, with a message naming the image and the reason."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask

from slimgate.webhook.metrics import WebhookMetrics
from tests.integration.webhook.conftest import Images, webhook_app
from tests.support import admission
from tests.support.faults import FaultServer, Reply
from tests.support.registry_server import free_port
from tests.unit.webhook.conftest import post

pytestmark = pytest.mark.registry

DEADLINE = 1.0


def config(on_error: str) -> str:
    return f"""
registry:
  insecure: ["127.0.0.1"]
  limits: {{lookupSeconds: 10}}
policy:
  onRegistryError: {on_error}
webhook:
  timeoutSeconds: 2
  deadlineSeconds: {DEADLINE}
"""


@pytest.fixture(params=["warn", "deny"])
def on_error(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(on_error: str) -> Iterator[tuple[Flask, WebhookMetrics]]:
    yield from webhook_app(config(on_error))


def review_of(app: Flask, image: str) -> tuple[dict, float]:  # type: ignore[type-arg]
    started = time.monotonic()
    response = post(app.test_client(), admission.review(admission.pod([image])))
    return response, time.monotonic() - started


def assert_decided(response: dict, on_error: str, image: str, reason: str) -> None:  # type: ignore[type-arg]
    if on_error == "deny":
        assert response["allowed"] is False
        message = response["status"]["message"]
        assert image in message
        assert reason in message
    else:
        assert response["allowed"] is True
        (line,) = response["warnings"]
        assert line.startswith(f"spec.containers[0].image: {image} not checked: ")
        assert reason in line


def test_unreachable_registry(app: tuple[Flask, WebhookMetrics], on_error: str) -> None:
    image = f"127.0.0.1:{free_port()}/team/api:1.4"  # nothing listens there
    response, elapsed = review_of(app[0], image)
    assert_decided(response, on_error, image, "127.0.0.1")
    assert elapsed < DEADLINE + 0.5


def test_rate_limited_registry(
    app: tuple[Flask, WebhookMetrics], on_error: str, fault_server: FaultServer
) -> None:
    limited = Reply(429, b'{"errors":[{"code":"TOOMANYREQUESTS"}]}', {"Retry-After": "30"})
    for method in ("HEAD", "GET"):
        fault_server.route(method, "/v2/team/api/manifests/1.4", limited)
    image = f"{fault_server.host}/team/api:1.4"
    response, elapsed = review_of(app[0], image)
    assert_decided(response, on_error, image, "429")
    assert elapsed < DEADLINE + 0.5


def test_slow_registry_is_cut_off_by_the_deadline(
    app: tuple[Flask, WebhookMetrics], on_error: str, fault_server: FaultServer
) -> None:
    slow = Reply(200, b"{}", delay=DEADLINE + 3)
    for method in ("HEAD", "GET"):
        fault_server.route(method, "/v2/team/api/manifests/1.4", slow)
    image = f"{fault_server.host}/team/api:1.4"
    response, elapsed = review_of(app[0], image)
    assert_decided(response, on_error, image, f"registry did not answer within {DEADLINE:.1f} s")
    assert elapsed < DEADLINE + 0.5
    metrics = app[1].registry
    assert metrics.get_sample_value("slimgate_admission_deadline_exceeded_total") == 1


def test_images_from_the_real_registry_are_decided(
    app: tuple[Flask, WebhookMetrics], images: Images
) -> None:
    flask_app, metrics = app
    response = post(flask_app.test_client(), admission.review(admission.pod([images.small])))
    assert response["allowed"] is True
    denied = post(flask_app.test_client(), admission.review(admission.pod([images.golang])))
    assert denied["allowed"] is False
    assert "toolchain-base" in denied["status"]["message"]
    requests = metrics.registry.get_sample_value(
        "slimgate_registry_requests_total",
        {"host": images.small.split("/")[0], "method": "HEAD", "status": "200"},
    )
    assert requests is not None
    assert requests >= 1

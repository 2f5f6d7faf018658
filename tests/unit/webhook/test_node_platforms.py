"""registry.platforms: auto in a review: the images are evaluated for the node platforms
the pod's placement allows, and the denial names the platform that was judged."""

from __future__ import annotations

from slimgate.config import WebhookSettings
from slimgate.kube.placement import narrow
from slimgate.kube.workloads import PodTemplate
from slimgate.model import Platform
from slimgate.webhook.app import create_app
from tests.support import admission
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import BLOATED, FakeEngine

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
GO = "registry.example/team/api:1.4"


def test_each_pod_is_evaluated_for_the_node_platforms_it_may_run_on() -> None:
    engine = FakeEngine()
    engine.canned[GO] = BLOATED

    def platforms_for(template: PodTemplate) -> tuple[Platform, ...]:
        return narrow((AMD64, ARM64), template.placement)

    app = create_app(WebhookSettings(), engine, platforms_for=platforms_for)
    client = app.test_client()
    try:
        pinned = admission.pod([GO], name="pinned")
        pinned["spec"]["nodeSelector"] = {"kubernetes.io/arch": "arm64"}
        response = post(client, admission.review(pinned))
        assert engine.platforms == [(ARM64,)]
        assert response["allowed"] is False
        # The fake reports the first platform it was given: the one judged.
        assert f"image {GO} for linux/arm64" in response["status"]["message"]
        post(client, admission.review(admission.pod([GO], name="anywhere")))
        assert engine.platforms[1] == (AMD64, ARM64)
    finally:
        engine.release.set()
        app.extensions["slimgate"]["pool"].shutdown(wait=True)


def test_without_node_platforms_the_configured_ones_are_evaluated() -> None:
    engine = FakeEngine()
    settings = WebhookSettings(platforms=(ARM64,))
    app = create_app(settings, engine, platforms_for=lambda template: ())
    try:
        post(app.test_client(), admission.review(admission.pod([GO])))
        assert engine.platforms == [(ARM64,)]
    finally:
        app.extensions["slimgate"]["pool"].shutdown(wait=True)

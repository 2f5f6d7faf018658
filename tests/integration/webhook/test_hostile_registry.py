"""The webhook, wired with the real registry client, while a hostile registry attacks it.

A healthy registry's toolchain image must still be denied while one pod names forty
images on a registry that drips its answers, and no lookup may outlive the review's
deadline by more than a second. Documents that do not parse get the ``onRegistryError``
decision and are remembered as failures; a realm that is refused once does not keep the
registry's images unreadable.
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from slimgate.kube.responses import MAX_WARNINGS
from slimgate.webhook.metrics import WebhookMetrics
from tests.integration.webhook.conftest import GOLANG_APP, Images, webhook_app
from tests.support import admission
from tests.support.faults import FaultServer, Reply, deep_json, gzip_bomb
from tests.support.images import Blob, ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer
from tests.unit.webhook.conftest import post

pytestmark = pytest.mark.registry

DEADLINE = 1.0
IMAGE = build_image(ImageSpec(history=[("ADD rootfs", 1000), ("RUN make", 2000)]))
PADDING = {"X-Padding": "." * 200}  # headers that take 10 s to drip
GOLANG_DIGEST = build_image(GOLANG_APP).digest
CLEAN = build_image(ImageSpec())


def config(on_error: str = "warn", negative_ttl: float = 10) -> str:
    return f"""
registry:
  insecure: ["127.0.0.1"]
  limits: {{lookupSeconds: 10}}
  cache: {{negativeTtlSeconds: {negative_ttl}}}
  knownToolchainImages: []
policy:
  mode: enforce
  onRegistryError: {on_error}
webhook:
  timeoutSeconds: 2
  deadlineSeconds: {DEADLINE}
"""


@pytest.fixture
def app() -> Iterator[tuple[Flask, WebhookMetrics]]:
    yield from webhook_app(config())


def lookups_in_progress() -> int:
    """Threads whose stack is in the registry client right now."""
    count = 0
    for frame in sys._current_frames().values():
        while frame is not None:
            if "/slimgate/registry/" in frame.f_code.co_filename:
                count += 1
                break
            frame = frame.f_back  # type: ignore[assignment]
    return count


def eventually(condition: Callable[[], bool], within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _review(app: Flask, images: list[str]) -> dict[str, Any]:
    return post(app.test_client(), admission.review(admission.pod(images)))


def test_a_healthy_toolchain_image_is_denied_while_a_registry_drips_forty_images(
    app: tuple[Flask, WebhookMetrics], images: Images, fault_server: FaultServer
) -> None:
    """Pods of forty images on a dripping registry keep arriving, each taking the whole
    deadline; a toolchain image from a healthy registry is still looked up and denied."""
    flask_app, _ = app
    fault_server.default = Reply(200, headers=PADDING, header_drip=0.05)
    lookups = flask_app.extensions["slimgate"]["lookups"]
    host = fault_server.host
    attacks: list[threading.Thread] = []
    answers: list[dict[str, Any]] = []

    def attack(wave: int) -> None:
        images = [f"{host}/wave{wave}/app{n}:1" for n in range(40)]  # nothing memoised
        answers.append(_review(flask_app, images))

    def launch(wave: int) -> None:
        attacks.append(threading.Thread(target=attack, args=(wave,)))
        attacks[-1].start()

    launch(0)
    # Every lookup of the first pod is running or waiting its turn, and the registry drips
    # as many answers at once as one registry may have lookups (8 by default).
    assert eventually(lambda: lookups.running(host) + lookups.waiting(host) == 40, 3)
    assert eventually(lambda: fault_server.dripping >= min(lookups.running(host), 8), 3)
    # While the first pod holds its lookups, the healthy image is decided at once: not
    # after the attack's lookups gave up at their deadline.
    sent = time.monotonic()
    first = _review(flask_app, [images.golang])
    assert time.monotonic() - sent < DEADLINE / 2
    decided: list[tuple[float, dict[str, Any]]] = [(0.0, first)]
    for wave in range(1, 7):  # a new pod every 0.25 s: the lookup pool is never idle
        launch(wave)
        if wave == 3:  # by digest: not answered from the memo of the first decision
            sent = time.monotonic()
            answer = _review(flask_app, [images.golang.rsplit(":", 1)[0] + "@" + GOLANG_DIGEST])
            decided.append((time.monotonic() - sent, answer))
        time.sleep(0.25)
    last_attack = time.monotonic()
    for thread in attacks:
        thread.join(10)
    for took, answer in decided:
        assert answer["allowed"] is False, answer
        assert "toolchain-base" in answer["status"]["message"]
        assert took < DEADLINE
    assert len(answers) == 7
    for attacked in answers:
        assert attacked["allowed"] is True  # onRegistryError: warn
        *lines, summary = attacked["warnings"]
        assert len(lines) == MAX_WARNINGS - 1
        assert summary.endswith("more warnings not shown")
        # Cut off by the review or their own lookup deadline, or refused at once by the
        # breaker once the registry had run out the deadline three times in a row.
        assert all(" not checked: " in line for line in lines)
    # ... and the breaker's refusal ("H: H did not answer within the lookup deadline 3 times
    # in a row"), as the warnings are cut short.
    breaker = f"not checked: {host}: {host} did not answer"
    assert any(breaker in line for attacked in answers[1:] for line in attacked["warnings"])
    # No lookup outlives its review by more than a second, threads counted.
    left = last_attack + DEADLINE + 1 - time.monotonic()
    assert eventually(lambda: lookups_in_progress() == 0, left), lookups_in_progress()
    assert eventually(lambda: fault_server.dripping == 0, 1.0)  # every connection was closed


def test_forty_dripping_registries_do_not_keep_a_healthy_one_waiting(
    plain_registry: RegistryServer,
) -> None:
    """Waves of pods spread over forty dripping registries, eight lookups each, ask for ten
    times the lookup threads there are. Healthy images arriving meanwhile get the next free
    thread, not the end of the queue: each is decided on its own evidence within its 4 s
    deadline, and once the first wave's lookups have given up, in well under a second."""
    servers = [FaultServer("127.0.0.1") for _ in range(40)]
    healthy = []
    for n in range(6):  # six distinct images: no decision or analysis is remembered
        built = build_image(dataclasses.replace(GOLANG_APP, labels={"build": str(n)}))
        push(plain_registry.url, "fair/app", str(n), built)
        healthy.append(f"{plain_registry.host}/fair/app:{n}")
    waves: list[threading.Thread] = []
    try:
        for server in servers:
            server.default = Reply(200, headers=PADDING, header_drip=0.05)
        long_deadline = config().replace("timeoutSeconds: 2", "timeoutSeconds: 5")
        long_deadline = long_deadline.replace(f"deadlineSeconds: {DEADLINE}", "deadlineSeconds: 4")
        for app, _ in webhook_app(long_deadline):
            first_wave = time.monotonic()
            for wave in range(10):  # 32 images on 4 registries each, a new wave every 0.2 s
                hosts = [s.host for s in servers[4 * wave : 4 * wave + 4]]
                attack = [f"{hosts[n % 4]}/drip/app{n}:1" for n in range(32)]
                waves.append(threading.Thread(target=_review, args=(app, attack)))
                waves[-1].start()
                time.sleep(0.2)
            took, answered = [], []
            for image in healthy:
                sent = time.monotonic()
                answer = _review(app, [image])
                answered.append(time.monotonic())
                took.append(answered[-1] - sent)
                assert answer["allowed"] is False, answer
                assert "toolchain-base" in answer["status"]["message"]
            # The first healthy image came while every thread was held: it ran on the
            # first thread freed when the first wave's lookups met their deadline (4 s),
            # ahead of the nine waves queued before it.
            assert answered[0] < first_wave + 4 + 1.0, took
            assert max(took[1:]) < 1.0, took
            for thread in waves:
                thread.join(6)
    finally:
        for server in servers:
            server.stop()


def test_a_document_that_does_not_parse_gets_the_registry_error_decision_and_is_remembered(
    fault_server: FaultServer,
) -> None:
    fault_server.publish(
        "team/deep", "1", Blob("application/vnd.oci.image.manifest.v1+json", deep_json())
    )
    image = f"{fault_server.host}/team/deep:1"
    for flask_app, _ in webhook_app(config("deny")):
        first = _review(flask_app, [image])
        asked = len(fault_server.seen)
        second = _review(flask_app, [image])
    for answer in (first, second):
        assert answer["allowed"] is False
        message = answer["status"]["message"]
        assert image in message
        assert "nested too deeply" in message
    assert len(fault_server.seen) == asked  # the second review was answered from the failure


def test_a_refused_realm_does_not_keep_the_registry_unreadable(fault_server: FaultServer) -> None:
    fault_server.serve("team/app", "1", CLEAN)
    fault_server.require_authorization('Bearer realm="http://169.254.169.254/token"', "Bearer ok")
    image = f"{fault_server.host}/team/app:1"
    for flask_app, _ in webhook_app(config("deny", negative_ttl=0)):
        refused = _review(flask_app, [image])
        assert refused["allowed"] is False
        assert "cloud metadata address" in refused["status"]["message"]
        # The registry now names a realm that works: the next review learns it.
        fault_server.route("GET", "/token", Reply(200, b'{"token": "ok"}'))
        fault_server.require_authorization(f'Bearer realm="{fault_server.url}/token"', "Bearer ok")
        allowed = _review(flask_app, [image])
        assert allowed["allowed"] is True, allowed


def test_thirty_two_bombs_in_one_review_do_not_grow_memory(fault_server: FaultServer) -> None:
    bomb = gzip_bomb()
    for n in range(32):
        repository = f"bombs/app{n}"
        fault_server.serve(repository, "1", IMAGE)
        fault_server.route(
            "GET",
            f"/v2/{repository}/manifests/{IMAGE.digest}",
            Reply(200, bomb, {"Content-Encoding": "gzip"}),
        )
    images = [f"{fault_server.host}/bombs/app{n}:1" for n in range(32)]
    for flask_app, _ in webhook_app(config("deny")):
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        answer = _review(flask_app, images)
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert answer["allowed"] is False
    assert "is larger than the 4194304-byte limit; stopped reading" in answer["status"]["message"]
    assert len(fault_server.requests("GET", f"/manifests/{IMAGE.digest}")) == 32
    # Each lookup keeps at most the 4 MiB cap: the peak of this whole process may not rise
    # by more than all of them at once (it rose by gigabytes when bombs were inflated).
    assert peak_after - peak_before <= 32 * 4 * 1024 * 1024

"""Images in a real registry and a webhook wired with the real registry client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from slimgate.config import parse_settings
from slimgate.webhook.app import create_app
from slimgate.webhook.generations import Composer
from slimgate.webhook.metrics import WebhookMetrics
from tests.support.images import ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer

GO_PATH = (
    "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

# A single-stage Go build on the official golang image, as `docker history` shows it.
GOLANG_APP = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:4b1b8d0a0d5f in / ", 4096),
        ('/bin/sh -c #(nop)  CMD ["bash"]', None),
        (
            "/bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends "
            "g++ gcc libc6-dev make pkg-config; rm -rf /var/lib/apt/lists/*",
            2048,
        ),
        ("ENV GOLANG_VERSION=1.23.4", None),
        ("ENV GOTOOLCHAIN=local", None),
        ("ENV GOPATH=/go", None),
        (f"ENV {GO_PATH}", None),
        ("COPY /target/ / # buildkit", 4096),
        ("WORKDIR /go", None),
        ("WORKDIR /src", None),
        ("COPY . . # buildkit", 512),
        ("RUN /bin/sh -c go build -o /usr/local/bin/api ./cmd/api # buildkit", 1024),
        ('CMD ["/usr/local/bin/api"]', None),
    ),
    env=(GO_PATH, "GOLANG_VERSION=1.23.4", "GOTOOLCHAIN=local", "GOPATH=/go"),
    cmd=("/usr/local/bin/api",),
)
SMALL_APP = ImageSpec()


@dataclass(frozen=True)
class Images:
    golang: str  # a single-stage Go build: toolchain-base, denied by default
    small: str  # a small image with nothing to say
    debug: str


@pytest.fixture(scope="session")
def images(plain_registry: RegistryServer) -> Images:
    push(plain_registry.url, "team/api", "1.4", build_image(GOLANG_APP))
    push(plain_registry.url, "team/small", "1.0", build_image(SMALL_APP))
    push(plain_registry.url, "tools/debug", "1.0", build_image(SMALL_APP))
    host = plain_registry.host
    return Images(f"{host}/team/api:1.4", f"{host}/team/small:1.0", f"{host}/tools/debug:1.0")


def webhook_app(config_text: str) -> Iterator[tuple[Flask, WebhookMetrics]]:
    config = parse_settings(config_text, "test-config.yaml")
    metrics = WebhookMetrics()
    composer = Composer(metrics)
    wiring = composer.build(config)
    app = create_app(wiring.settings, wiring.engine, metrics=metrics)
    yield app, metrics
    app.extensions["slimgate"]["pool"].shutdown(wait=True, cancel_futures=True)
    composer.close()

"""Every manifest media type, read back from a real registry (distribution 2.8)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest

from slimgate.errors import NotFound, Unsupported
from slimgate.model import (
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    Platform,
)
from slimgate.registry import RegistryClient, RegistryOptions
from tests.support.images import BuiltImage, BuiltIndex, ImageSpec, build_image, build_index, push
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

HISTORY = [
    ("/bin/sh -c #(nop) ADD file:1234 in / ", 300),
    ("/bin/sh -c #(nop)  ENV GOLANG_VERSION=1.23.1", None),
    ("/bin/sh -c go build -o /app ./...", 700),
    ('/bin/sh -c #(nop)  CMD ["/app"]', None),
]


@dataclass
class Published:
    host: str
    oci: BuiltImage
    docker: BuiltImage
    oci_index: BuiltIndex
    docker_list: BuiltIndex


@pytest.fixture(scope="module")
def published(plain_registry: RegistryServer) -> Published:
    def spec(
        media: Literal["oci", "docker"], arch: str = "amd64", variant: str | None = None
    ) -> ImageSpec:
        return ImageSpec(
            history=HISTORY,
            env=["PATH=/go/bin:/usr/bin", "GOLANG_VERSION=1.23.1"],
            labels={"maintainer": "team"},
            annotations={"org.opencontainers.image.base.name": "docker.io/library/golang:1.23"},
            media=media,
            architecture=arch,
            variant=variant,
        )

    oci = build_image(spec("oci"))
    docker = build_image(spec("docker"))
    oci_index = build_index(
        [oci, build_image(spec("oci", "arm64", "v8"))],
        annotations={"org.opencontainers.image.source": "https://example.com/src"},
    )
    docker_list = build_index(
        [docker, build_image(spec("docker", "arm", "v7"))], media="docker", attestation=False
    )
    url = plain_registry.url
    push(url, "media/oci", "1", oci)
    push(url, "media/docker", "1", docker)
    push(url, "media/oci-index", "1", oci_index)
    push(url, "media/docker-list", "1", docker_list)
    return Published(plain_registry.host, oci, docker, oci_index, docker_list)


@pytest.fixture
def client(plain_registry: RegistryServer) -> Iterator[RegistryClient]:
    with RegistryClient(RegistryOptions(insecure={plain_registry.host})) as client:
        yield client


def test_oci_manifest_yields_layers_config_and_annotations(
    published: Published, client: RegistryClient
) -> None:
    meta = client.fetch(f"{published.host}/media/oci:1", Platform())
    image = published.oci
    assert meta.reference == f"{published.host}/media/oci:1"
    assert meta.media_type == OCI_MANIFEST
    assert meta.digest == image.digest
    assert meta.index_digest is None
    assert meta.config_digest == image.config.digest
    assert [layer.digest for layer in meta.layers] == [b.digest for b in image.layers]
    assert meta.compressed_size == sum(b.size for b in image.layers)
    assert meta.config.env_map()["GOLANG_VERSION"] == "1.23.1"
    assert meta.config.labels == {"maintainer": "team"}
    assert meta.annotations["org.opencontainers.image.base.name"].endswith("golang:1.23")
    assert len(meta.config.diff_ids) == 2
    assert [layer.created_by for layer in meta.layer_history()] == [
        created_by for created_by, layer in HISTORY if layer is not None
    ]


def test_docker_schema2_manifest(published: Published, client: RegistryClient) -> None:
    meta = client.fetch(f"{published.host}/media/docker:1", Platform())
    assert meta.media_type == DOCKER_MANIFEST
    assert meta.digest == published.docker.digest
    assert meta.config.history[1].empty_layer


def test_oci_index_resolves_the_requested_platform(
    published: Published, client: RegistryClient
) -> None:
    index = published.oci_index
    amd = client.fetch(f"{published.host}/media/oci-index:1", Platform("linux", "amd64"))
    arm = client.fetch(f"{published.host}/media/oci-index:1", Platform("linux", "arm64"))
    assert amd.digest == index.images[0].digest
    assert arm.digest == index.images[1].digest
    assert amd.index_digest == arm.index_digest == index.digest
    assert arm.platform == Platform("linux", "arm64", "v8")
    assert arm.config.architecture == "arm64"
    assert amd.annotations["org.opencontainers.image.source"] == "https://example.com/src"


def test_docker_manifest_list_resolves_a_variant(
    published: Published, client: RegistryClient
) -> None:
    meta = client.fetch(f"{published.host}/media/docker-list:1", Platform("linux", "arm", "v7"))
    assert meta.digest == published.docker_list.images[1].digest
    assert meta.media_type == DOCKER_MANIFEST
    assert meta.index_digest == published.docker_list.digest


def test_a_platform_missing_from_the_index_names_the_ones_present(
    published: Published, client: RegistryClient
) -> None:
    with pytest.raises(Unsupported) as caught:
        client.fetch(f"{published.host}/media/oci-index:1", Platform("linux", "s390x"))
    message = str(caught.value)
    assert "linux/s390x" in message
    assert "linux/amd64, linux/arm64/v8" in message


def test_the_attestation_entry_is_never_chosen(
    published: Published, client: RegistryClient
) -> None:
    with pytest.raises(Unsupported):
        client.fetch(f"{published.host}/media/oci-index:1", Platform("unknown", "unknown"))


def test_digest_references_skip_the_tag_lookup(
    published: Published, client: RegistryClient
) -> None:
    digest = published.oci_index.digest
    meta = client.fetch(f"{published.host}/media/oci-index@{digest}", Platform())
    assert meta.index_digest == digest
    assert client.counters.requests(method="HEAD") == 0


def test_a_digest_wins_over_a_tag(published: Published, client: RegistryClient) -> None:
    meta = client.fetch(f"{published.host}/media/oci:nonexistent@{published.oci.digest}")
    assert meta.digest == published.oci.digest
    assert client.counters.requests(method="HEAD") == 0


def test_a_platform_manifest_by_digest_reports_its_own_platform(
    published: Published, client: RegistryClient
) -> None:
    arm = published.oci_index.images[1]
    meta = client.fetch(f"{published.host}/media/oci-index@{arm.digest}", Platform())
    assert meta.index_digest is None
    assert meta.platform == Platform("linux", "arm64", "v8")


def test_unknown_tags_and_repositories_are_not_found(
    published: Published, client: RegistryClient
) -> None:
    with pytest.raises(NotFound) as caught:
        client.fetch(f"{published.host}/media/oci:missing")
    assert published.host in str(caught.value)
    assert "media/oci:missing" in str(caught.value)
    with pytest.raises(NotFound):
        client.fetch(f"{published.host}/no/such-repo:1")


def test_layer_blobs_are_never_requested(published: Published, client: RegistryClient) -> None:
    client.fetch(f"{published.host}/media/oci-index:1", Platform("linux", "arm64"))
    # index, platform manifest, config: nothing else (the fault tests check the paths)
    assert client.counters.requests(method="GET") == 3

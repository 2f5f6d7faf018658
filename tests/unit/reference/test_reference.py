"""The reference grammar of github.com/distribution/reference, and Docker Hub normalisation."""

from __future__ import annotations

import pytest

from slimgate.errors import InvalidReference
from slimgate.reference import ImageReference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("nginx:1.25-alpine", "docker.io", "library/nginx", "1.25-alpine", None),
        ("library/nginx", "docker.io", "library/nginx", "latest", None),
        ("docker.io/nginx", "docker.io", "library/nginx", "latest", None),
        ("index.docker.io/nginx", "docker.io", "library/nginx", "latest", None),
        ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None),
        ("ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", None),
        ("localhost/app", "localhost", "app", "latest", None),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None),
        ("registry:5000/app", "registry:5000", "app", "latest", None),
        ("Registry.Example.com/app", "Registry.Example.com", "app", "latest", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        ("a.b/c_d/e__f/g-h/i--j/k.l:T_a-g.1", "a.b", "c_d/e__f/g-h/i--j/k.l", "T_a-g.1", None),
        (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST),
        (f"nginx:1.25@{DIGEST}", "docker.io", "library/nginx", "1.25", DIGEST),
        ("quay.io/x/y@sha512:" + "b" * 128, "quay.io", "x/y", None, "sha512:" + "b" * 128),
    ],
)
def test_valid_references_parse_into_their_parts(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" nginx", "whitespace"),
        ("NGINX", "lower-case"),
        ("docker.io/Library/nginx", "lower-case"),
        ("nginx:", "invalid tag"),
        ("nginx:-dash", "invalid tag"),
        ("nginx:" + "t" * 129, "invalid tag"),
        ("nginx@", "nothing after '@'"),
        ("nginx@sha256:abc", "invalid digest"),
        ("nginx@sha256:" + "A" * 64, "lower-case hex"),
        ("nginx@md5:" + "a" * 32, "algorithm"),
        ("a" * 64, "image ID"),
        ("foo//bar", "invalid repository"),
        ("foo/bar/", "invalid repository"),
        ("-foo/bar", "invalid"),
        ("ex ample.com/app", "invalid registry host"),
        ("example.com:port/app", "invalid"),
        ("a/" + "b" * 260, "longer than 255"),
        ("https://ghcr.io/org/app", "invalid"),
    ],
)
def test_invalid_references_raise_with_the_reference_quoted(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        ImageReference.parse(text)
    message = str(caught.value)
    assert repr(text) in message
    assert reason in message


def test_docker_hub_names_are_normalised_and_use_the_registry_endpoint() -> None:
    ref = ImageReference.parse("nginx")
    assert str(ref) == "docker.io/library/nginx:latest"
    assert ref.endpoint == "registry-1.docker.io"
    assert ref.familiar == "nginx:latest"
    assert ImageReference.parse("bitnami/redis:7").familiar == "bitnami/redis:7"


def test_other_registries_are_their_own_endpoint_and_keep_their_name() -> None:
    ref = ImageReference.parse("localhost:5000/team/app:1")
    assert ref.endpoint == "localhost:5000"
    assert ref.familiar == "localhost:5000/team/app:1"
    assert str(ref) == "localhost:5000/team/app:1"


def test_canonical_form_keeps_tag_and_digest_and_digest_is_the_identifier() -> None:
    ref = ImageReference.parse(f"ghcr.io/a/b:1.0@{DIGEST}")
    assert str(ref) == f"ghcr.io/a/b:1.0@{DIGEST}"
    assert ref.identifier == DIGEST
    assert ImageReference.parse("ghcr.io/a/b").identifier == "latest"


def test_canonical_form_parses_back_to_the_same_reference() -> None:
    for text in ("nginx", "ghcr.io/a/b:1", f"nginx@{DIGEST}", "localhost:5000/x/y:z"):
        ref = ImageReference.parse(text)
        assert ImageReference.parse(str(ref)) == ref


def test_reference_is_frozen() -> None:
    ref = ImageReference.parse("nginx")
    with pytest.raises(AttributeError):
        ref.tag = "other"  # type: ignore[misc]


def test_a_255_character_name_is_the_longest_allowed() -> None:
    name = "example.com/" + "a" * (255 - len("example.com/"))
    assert ImageReference.parse(name).repository == "a" * (255 - len("example.com/"))
    with pytest.raises(InvalidReference):
        ImageReference.parse(name + "a")

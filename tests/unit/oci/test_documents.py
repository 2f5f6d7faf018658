"""Manifest, index and config parsing; platform choice; digest checks."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import pytest

from slimgate.errors import DigestMismatch, TooLarge, Unsupported
from slimgate.model import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, Platform
from slimgate.oci.documents import (
    Index,
    Manifest,
    choose_platform,
    parse_config,
    parse_document,
    verify_digest,
)
from tests.support.images import ImageSpec, build_image, build_index


def _parse(body: bytes, content_type: str | None = None, max_entries: int = 256) -> object:
    return parse_document(body, content_type, what="m", registry="r", max_entries=max_entries)


@pytest.mark.parametrize("media", ["oci", "docker"])
def test_image_manifests_of_both_families_parse(media: Literal["oci", "docker"]) -> None:
    image = build_image(ImageSpec(media=media, history=[("a", 10), ("b", None), ("c", 20)]))
    parsed = _parse(image.manifest.data)
    assert isinstance(parsed, Manifest)
    assert parsed.media_type == (OCI_MANIFEST if media == "oci" else DOCKER_MANIFEST)
    assert parsed.config.digest == image.config.digest
    assert [layer.digest for layer in parsed.layers] == [b.digest for b in image.layers]
    assert [layer.size for layer in parsed.layers] == [b.size for b in image.layers]


@pytest.mark.parametrize(
    ("media", "expected"), [("oci", OCI_INDEX), ("docker", DOCKER_MANIFEST_LIST)]
)
def test_indexes_of_both_families_parse(media: Literal["oci", "docker"], expected: str) -> None:
    images = [
        build_image(ImageSpec(media=media)),
        build_image(ImageSpec(media=media, architecture="arm64")),
    ]
    parsed = _parse(build_index(images, media=media).index.data)
    assert isinstance(parsed, Index)
    assert parsed.media_type == expected


def test_media_type_falls_back_to_the_content_type_header() -> None:
    doc = json.loads(build_image().manifest.data)
    del doc["mediaType"]
    parsed = _parse(json.dumps(doc).encode(), f"{OCI_MANIFEST}; charset=utf-8")
    assert isinstance(parsed, Manifest)


def test_schema1_is_unsupported_with_a_clear_message() -> None:
    body = json.dumps({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}).encode()
    with pytest.raises(Unsupported, match="schema 1"):
        _parse(body, "application/vnd.docker.distribution.manifest.v1+prettyjws")


def test_unknown_media_types_are_unsupported() -> None:
    body = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json"}
    ).encode()
    with pytest.raises(Unsupported, match="unsupported manifest media type"):
        _parse(body)


@pytest.mark.parametrize(
    "body", [b"not json", b"[1]", b'{"mediaType": "%s"}' % OCI_MANIFEST.encode()]
)
def test_malformed_documents_are_unsupported(body: bytes) -> None:
    with pytest.raises(Unsupported):
        _parse(body)


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        b'{"mediaType": ' + DEEP + b"}",
        b'{"schemaVersion": 2, "manifests": ' + DEEP + b"}",
    ],
    ids=["top-level", "media-type", "index-entries"],
)
def test_json_nested_deeper_than_the_parser_goes_is_unsupported(body: bytes) -> None:
    with pytest.raises(Unsupported, match="nested too deeply"):
        _parse(body)
    with pytest.raises(Unsupported, match="nested too deeply"):
        parse_config(body, what="c", registry="r")


@pytest.mark.parametrize(
    "field",
    [
        {"mediaType": {"a": 1}},  # unhashable where a string belongs
        {"mediaType": OCI_MANIFEST, "config": {"digest": "sha256:" + "0" * 64, "size": True}},
        {"mediaType": OCI_INDEX, "manifests": [{"digest": 7, "size": 1}]},
    ],
)
def test_values_of_the_wrong_type_are_unsupported_not_converted(field: dict[str, object]) -> None:
    body = json.dumps({"schemaVersion": 2, "layers": [], **field}).encode()
    with pytest.raises(Unsupported):
        _parse(body)


def test_config_values_of_the_wrong_type_read_as_absent() -> None:
    nested: object = "x"
    for _ in range(500):  # deep enough that converting it with str() would recurse
        nested = [nested]
    body = json.dumps(
        {
            "os": nested,
            "architecture": 5,
            "variant": {"v": 8},
            "config": {"Env": ["A=1", 2, None], "User": ["root"], "WorkingDir": nested},
            "history": [{"created_by": nested, "empty_layer": "yes"}, 3],
        }
    ).encode()
    config = parse_config(body, what="c", registry="r")
    assert (config.os, config.architecture, config.variant) == ("linux", "amd64", None)
    assert config.env == ("A=1",)
    assert (config.user, config.working_dir) == ("", "")
    assert [(h.created_by, h.empty_layer) for h in config.history] == [("", False)]


def test_an_index_over_the_entry_cap_is_too_large() -> None:
    index = build_index(
        [build_image(ImageSpec(architecture=a)) for a in ("amd64", "arm64", "s390x")]
    )
    with pytest.raises(TooLarge, match="more than the limit of 2"):
        _parse(index.index.data, max_entries=2)


def test_platform_choice_skips_attestations_and_names_the_available_platforms() -> None:
    amd = build_image(ImageSpec(architecture="amd64"))
    arm = build_image(ImageSpec(architecture="arm64", variant="v8"))
    index = _parse(build_index([amd, arm], attestation=True).index.data)
    assert isinstance(index, Index)
    assert len(index.manifests) == 3
    chosen = choose_platform(index, Platform("linux", "arm64"), what="x", registry="r")
    assert chosen.digest == arm.digest
    with pytest.raises(Unsupported) as caught:
        choose_platform(index, Platform("linux", "s390x"), what="x", registry="r")
    assert "linux/amd64, linux/arm64/v8" in str(caught.value)
    assert "unknown" not in str(caught.value)
    with pytest.raises(Unsupported):
        choose_platform(index, Platform("unknown", "unknown"), what="x", registry="r")


def test_config_is_parsed_with_history_and_diff_ids() -> None:
    image = build_image(
        ImageSpec(
            history=[("FROM golang", 100), ("ENV CGO_ENABLED=0", None)],
            env=["PATH=/go/bin", "CGO_ENABLED=0"],
            labels={"org.opencontainers.image.source": "https://example.com/x"},
            entrypoint=["/app"],
            user="65532",
            working_dir="/src",
            architecture="arm64",
            variant="v8",
        )
    )
    config = parse_config(image.config.data, what="c", registry="r")
    assert config.env == ("PATH=/go/bin", "CGO_ENABLED=0")
    assert config.labels == {"org.opencontainers.image.source": "https://example.com/x"}
    assert [(h.created_by, h.empty_layer) for h in config.history] == [
        ("FROM golang", False),
        ("ENV CGO_ENABLED=0", True),
    ]
    assert len(config.diff_ids) == 1
    assert (config.architecture, config.variant, config.user) == ("arm64", "v8", "65532")
    assert config.entrypoint == ("/app",)
    assert config.working_dir == "/src"


def test_config_with_null_sections_parses_to_defaults() -> None:
    body = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": None, "history": None}
    ).encode()
    config = parse_config(body, what="c", registry="r")
    assert config.env == ()
    assert config.history == ()


def test_digests_are_verified_with_sha256_and_sha512() -> None:
    body = b"content"
    verify_digest(body, "sha256:" + hashlib.sha256(body).hexdigest(), what="m", registry="r")
    verify_digest(body, "sha512:" + hashlib.sha512(body).hexdigest(), what="m", registry="r")
    with pytest.raises(DigestMismatch, match="refusing"):
        verify_digest(body, "sha256:" + "0" * 64, what="m", registry="r")
    with pytest.raises(DigestMismatch):
        verify_digest(body, "sha512:" + "0" * 128, what="m", registry="r")

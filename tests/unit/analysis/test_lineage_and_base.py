"""Base recognition: annotation, label, lineage, environment, history, in that order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slimgate.analysis import rules
from slimgate.analysis.base import classify_reference, split_reference
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Method
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.lineage import DEFAULT_TOOLCHAIN_IMAGES, KnownBase, Lineage
from slimgate.model import BASE_NAME_ANNOTATION
from tests.support import corpus

MB = 1_000_000


def known(name: str, rule: str | None = rules.TOOLCHAIN_BASE, ecosystem: str = "go") -> KnownBase:
    image = corpus.load(name)
    return KnownBase(
        name=name,
        reference=image.reference,
        layers=tuple(layer.digest for layer in image.layers),
        rule=rule,
        ecosystem=ecosystem,
        digest=image.digest,
    )


def test_match_is_the_longest_full_prefix() -> None:
    short = KnownBase("a", "a:1", ("sha256:1",))
    longer = KnownBase("b", "b:1", ("sha256:1", "sha256:2"))
    other = KnownBase("c", "c:1", ("sha256:1", "sha256:9"))
    lineage = Lineage.of([short, longer, other])
    assert lineage.match(["sha256:1", "sha256:2", "sha256:3"]) is longer
    assert lineage.match(["sha256:1", "sha256:3"]) is short
    assert lineage.match(["sha256:2"]) is None


def test_a_base_longer_than_the_image_does_not_match() -> None:
    lineage = Lineage.of([KnownBase("b", "b:1", ("sha256:1", "sha256:2"))])
    assert lineage.match(["sha256:1"]) is None
    assert Lineage.of([KnownBase("e", "e:1", ())]).match(["sha256:1"]) is None


def test_default_toolchain_images_cover_the_ecosystems() -> None:
    references = {image.reference for image in DEFAULT_TOOLCHAIN_IMAGES}
    for expected in ("golang:1", "rust:1", "gcc:latest", "maven:3", "node:lts", "python:3"):
        assert f"docker.io/library/{expected}" in references
    assert {image.rule for image in DEFAULT_TOOLCHAIN_IMAGES} <= set(rules.RULE_IDS)


def test_lineage_recognises_a_base_whose_env_was_overwritten() -> None:
    # Strip the signature env so only the layer chain can tell.
    base = corpus.load("golang-1-alpine")
    bare = replace(base, config=replace(base.config, env=()))
    app = corpus.extend(
        bare, [("COPY . . # buildkit", MB), ("RUN /bin/sh -c go build -o /app . # buildkit", MB)]
    )
    assert analyse(app, Knowledge.default()).base is None  # nothing else can tell
    knowledge = Knowledge(lineage=Lineage.of([known("golang-1-alpine")]))
    analysis = analyse(app, knowledge)
    assert analysis.base is not None
    assert analysis.base.method is Method.LINEAGE
    assert analysis.base.reference == "docker.io/library/golang:1-alpine"
    found = {f.rule for f in analysis.findings}
    assert {rules.TOOLCHAIN_BASE, rules.BUILD_IN_FINAL_IMAGE} <= found
    base_finding = next(f for f in analysis.findings if f.rule == rules.TOOLCHAIN_BASE)
    assert base_finding.saving == 71077884  # the SDK COPY layer of golang:1-alpine


def test_lineage_of_a_clean_base_marks_the_boundary_only() -> None:
    knowledge = Knowledge(lineage=Lineage.of([known("debian-bookworm-slim", rule=None)]))
    app = corpus.extend(
        corpus.load("debian-bookworm-slim"), [("COPY --from=b /app /app # buildkit", MB)]
    )
    analysis = analyse(app, knowledge)
    assert analysis.findings == ()
    assert analysis.base is not None
    assert analysis.base.method is Method.LINEAGE


def test_annotation_beats_environment() -> None:
    image = corpus.extend(
        corpus.load("node-22-bookworm-slim"),
        [("COPY . . # buildkit", MB)],
        annotations={BASE_NAME_ANNOTATION: "docker.io/library/node:22-bookworm-slim"},
    )
    analysis = analyse(image, Knowledge.default())
    assert analysis.base is not None
    assert analysis.base.method is Method.ANNOTATION
    assert analysis.base.reference == "docker.io/library/node:22-bookworm-slim"
    assert analysis.findings == ()


def test_label_names_a_toolchain_base() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm"),
        [("COPY app /app # buildkit", MB)],
        labels={BASE_NAME_ANNOTATION: "golang:1.22-bookworm"},
    )
    analysis = analyse(image, Knowledge.default())
    assert analysis.base is not None
    assert analysis.base.method is Method.LABEL
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_BASE]
    assert "golang:1.22-bookworm" in analysis.findings[0].message


def test_a_label_is_still_read_when_the_annotation_names_an_unknown_base() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm"),
        [("COPY app /app # buildkit", MB)],
        labels={BASE_NAME_ANNOTATION: "golang:1.22-bookworm"},
        annotations={BASE_NAME_ANNOTATION: "registry.example/platform/base:7"},
    )
    analysis = analyse(image, Knowledge.default())
    assert analysis.base is not None
    assert analysis.base.method is Method.LABEL
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_BASE]


def test_base_digest_annotation_finds_the_lineage_entry() -> None:
    base = known("golang-1-alpine")
    image = corpus.extend(
        corpus.load("alpine-3.24"),
        [("COPY app /app # buildkit", MB)],
        annotations={"org.opencontainers.image.base.digest": base.digest or ""},
    )
    analysis = analyse(image, Knowledge(lineage=Lineage.of([base])))
    assert analysis.base is not None
    assert analysis.base.method is Method.LINEAGE


@pytest.mark.parametrize(
    ("reference", "path", "tag"),
    [
        ("golang", "golang", "latest"),
        ("docker.io/library/golang:1.22", "golang", "1.22"),
        ("index.docker.io/library/node:22-slim@sha256:" + "a" * 64, "node", "22-slim"),
        ("public.ecr.aws/docker/library/python:3.12", "python", "3.12"),
        ("localhost:5000/team/app", "localhost:5000/team/app", "latest"),
        ("mcr.microsoft.com/dotnet/sdk:8.0", "mcr.microsoft.com/dotnet/sdk", "8.0"),
    ],
)
def test_split_reference(reference: str, path: str, tag: str) -> None:
    assert split_reference(reference) == (path, tag)


@pytest.mark.parametrize(
    ("reference", "rule"),
    [
        ("golang:1.22-alpine", rules.TOOLCHAIN_BASE),
        ("rust:1-slim", rules.TOOLCHAIN_BASE),
        ("node:22", rules.FULL_LANGUAGE_BASE),
        ("node:22-slim", None),
        ("python:3.12-alpine", None),
        ("eclipse-temurin:21-jdk", rules.JDK_RUNTIME),
        ("eclipse-temurin:21-jre", None),
        ("php:8.3-cli", rules.PHP_EXTENSION_TOOLCHAIN),
        ("php:8.3-fpm-alpine", None),
        ("buildpack-deps:bookworm", rules.TOOLCHAIN_BASE),
        ("buildpack-deps:bookworm-curl", None),
        ("mcr.microsoft.com/dotnet/sdk:8.0", rules.TOOLCHAIN_BASE),
        ("ibm-semeru-runtimes:open-21-jdk", rules.JDK_RUNTIME),
        ("ibm-semeru-runtimes:open-21-jre", None),
        ("sapmachine:21-jdk-headless", rules.JDK_RUNTIME),
        ("sapmachine:21-jre-headless", None),
        ("amazoncorretto:21", rules.JDK_RUNTIME),
        ("amazoncorretto:21-al2023-headless", None),  # Corretto's runtime-only image
        ("composer:2", rules.TOOLCHAIN_BASE),
        ("dart:stable", rules.TOOLCHAIN_BASE),
        ("pypy:3-bookworm", rules.FULL_LANGUAGE_BASE),
        ("pypy:3-slim", None),
        ("r-base:4.6.1", rules.FULL_LANGUAGE_BASE),
    ],
)
def test_classify_reference(reference: str, rule: str | None) -> None:
    classified = classify_reference(reference)
    assert classified is not None
    assert classified[1] == rule


@pytest.mark.parametrize(
    ("reference", "family"),
    [
        ("clojure:temurin-21-tools-deps", "clojure"),
        ("clojure:temurin-21-lein", "leiningen"),
        ("clojure:latest", "leiningen"),
    ],
)
def test_a_repository_with_two_build_tools_is_told_by_its_tag(reference: str, family: str) -> None:
    classified = classify_reference(reference)
    assert classified is not None
    assert classified[0].family == family
    assert classified[1] == rules.TOOLCHAIN_BASE


def test_unknown_references_are_not_classified() -> None:
    assert classify_reference("mcr.microsoft.com/dotnet/aspnet:8.0") is None
    assert classify_reference("gcr.io/distroless/static-debian12") is None
    assert classify_reference("myorg/golang-tools:1") is None
    # "library" only as a whole path segment: this is someone's own image, not golang's
    assert classify_reference("mylibrary/golang:1.22") is None
    assert classify_reference("acme/mylibrary/node:20") is None


def test_official_images_behind_mirrors_are_classified() -> None:
    for reference in (
        "public.ecr.aws/docker/library/golang:1.22",
        "harbor.example/hub/library/golang:1.22",
        "docker.io/library/golang:1.22",
    ):
        found = classify_reference(reference)
        assert found is not None, reference
        assert found[0].name == "golang"

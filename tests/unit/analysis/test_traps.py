"""The traps real Dockerfiles and BuildKit histories set, in lint and in image analysis.

The patterns are recorded in tests/fixtures/dockerfiles/README.md with where each was seen.
"""

from __future__ import annotations

import pytest

from slimgate.analysis import rules
from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Analysis
from slimgate.analysis.knowledge import Knowledge
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support import corpus

MB = 1_000_000


def linted(text: str) -> Analysis:
    return lint(parse_dockerfile(text))


def rules_of(analysis: Analysis) -> set[str]:
    return {f.rule for f in analysis.findings}


def test_arg_with_spaces_feeds_the_package_install_in_lint() -> None:
    text = (
        'FROM debian:bookworm-slim\nARG PKGS="gcc make"\n'
        "RUN apt-get update && apt-get install -y $PKGS\n"
    )
    analysis = linted(text)
    assert rules_of(analysis) == {rules.TOOLCHAIN_INSTALLED}
    assert "gcc, make" in analysis.findings[0].message


def test_arg_with_spaces_feeds_the_package_install_in_history() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("ARG PKGS=gcc make", None),
            (
                "RUN |1 PKGS=gcc make /bin/sh -c apt-get update && apt-get install -y $PKGS"
                " # buildkit",
                90 * MB,
            ),
        ],
    )
    finding = analyse(image, Knowledge.default()).findings[0]
    assert finding.rule == rules.TOOLCHAIN_INSTALLED
    assert "gcc, make" in finding.message
    assert finding.created_by == "RUN apt-get update && apt-get install -y $PKGS"


@pytest.mark.parametrize(
    ("run", "rule"),
    [
        ("RUN --mount=type=cache,target=/root/.npm npm ci", rules.DEV_DEPENDENCIES),
        ("RUN --mount=type=cache,target=/root/.npm --network=default npm run build", None),
        (
            "RUN --mount=type=cache,target=/root/.cache/go-build go build -o /app .",
            rules.BUILD_IN_FINAL_IMAGE,
        ),
    ],
)
def test_run_flags_do_not_hide_the_command_in_lint(run: str, rule: str | None) -> None:
    text = f"FROM node:22-slim\nWORKDIR /app\nCOPY . .\n{run}\n"
    found = rules_of(linted(text))
    if rule is None:
        assert rules.BUILD_IN_FINAL_IMAGE in found
    else:
        assert rule in found


def test_phpize_deps_expand_from_the_base_in_lint() -> None:
    text = (
        "FROM php:8.3-fpm-alpine\n"
        "RUN apk add --no-cache $PHPIZE_DEPS && pecl install redis && docker-php-ext-enable redis\n"
    )
    analysis = linted(text)
    assert rules_of(analysis) == {rules.TOOLCHAIN_INSTALLED}
    assert analysis.findings[0].message.startswith("line 2 keeps g++, gcc, autoconf (+4)")
    cleaned = (
        text.replace(
            "apk add --no-cache $PHPIZE_DEPS",
            "apk add --no-cache --virtual .build-deps $PHPIZE_DEPS",
        ).rstrip("\n")
        + " && apk del .build-deps\n"
    )
    assert rules_of(linted(cleaned)) == set()


def test_apt_remove_build_essential_without_autoremove_keeps_the_compilers() -> None:
    text = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y build-essential && pip install uwsgi"
        " && apt-get remove -y build-essential\n"
    )
    analysis = linted(text)
    assert rules_of(analysis) == {rules.TOOLCHAIN_INSTALLED}
    assert "gcc" in analysis.findings[0].message
    purged = text.replace("apt-get remove -y", "apt-get purge -y --auto-remove")
    assert rules_of(linted(purged)) == set()


def test_a_later_removal_is_said_not_to_shrink_the_image() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y gcc make\n"
        "RUN make -C /src\n"
        "RUN apt-get purge -y gcc make\n"
    )
    finding = linted(text).findings[0]
    assert finding.rule == rules.TOOLCHAIN_INSTALLED
    assert "removing them at line 4 does not shrink the image" in finding.message


def test_an_arg_base_without_default_says_which_arg_is_unset() -> None:
    analysis = linted("ARG GO_VERSION\nFROM golang:${GO_VERSION}\nCOPY . .\nRUN go build .\n")
    assert analysis.base is not None
    assert analysis.base.reference == "golang:${GO_VERSION}"
    assert "ARG GO_VERSION sets the tag and has no default" in analysis.base.evidence
    assert "golang:" not in analysis.findings[0].message.replace("golang:${GO_VERSION}", "")


@pytest.mark.parametrize(
    ("base", "name", "rule"),
    [
        ("python:3.12-alpine", "python (alpine)", None),
        ("python:3.12-slim", "python (slim)", None),
        ("node:22-alpine", "node (alpine)", None),
        ("tomcat:10.1-jdk21-temurin-noble", "JDK", rules.JDK_RUNTIME),
        ("tomcat:10.1", "JDK", rules.JDK_RUNTIME),
        ("tomcat:10.1-jre21-temurin-noble", "JRE", None),
        ("java:8", "JDK", rules.JDK_RUNTIME),
        ("java:8-jre", "JRE", None),
        (
            "registry.access.redhat.com/ubi9/openjdk-17:1.21",
            "UBI OpenJDK (JDK, s2i builder)",
            rules.TOOLCHAIN_BASE,
        ),
        ("registry.access.redhat.com/ubi9/openjdk-17-runtime:1.21", "UBI OpenJDK runtime", None),
        ("cgr.dev/chainguard/jdk:latest", "JDK", rules.JDK_RUNTIME),
        ("cgr.dev/chainguard/jre:latest", "JRE", None),
        ("cgr.dev/chainguard/go:latest-dev", "golang", rules.TOOLCHAIN_BASE),
        ("wordpress:6-php8.3-apache", "php (keeps $PHPIZE_DEPS)", rules.PHP_EXTENSION_TOOLCHAIN),
    ],
)
def test_variants_are_named_as_they_are(base: str, name: str, rule: str | None) -> None:
    analysis = linted(f"FROM {base}\nCOPY app /app\n")
    assert analysis.base is not None
    assert analysis.base.name == name
    assert {f.rule for f in analysis.findings} == ({rule} if rule else set())


def test_lint_notes_change_no_decision_and_stay_quiet_on_good_files() -> None:
    assert linted("FROM python:3.12-slim\nARG V=1\nRUN echo $V\n").notes == ()
    analysis = linted("FROM golang:1.22 AS builder\nRUNN go build .\n")
    assert analysis.notes == ("line 2: unknown instruction RUNN: the Dockerfile would not build",)
    assert rules_of(analysis) == {rules.TOOLCHAIN_BASE}

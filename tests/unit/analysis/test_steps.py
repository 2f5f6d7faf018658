"""History ``created_by`` dialects become uniform steps."""

from __future__ import annotations

import pytest

from slimgate.analysis.steps import parse_created_by


@pytest.mark.parametrize(
    ("created_by", "instruction", "body"),
    [
        ("/bin/sh -c #(nop)  ENV GOLANG_VERSION=1.22.5", "ENV", "GOLANG_VERSION=1.22.5"),
        ('/bin/sh -c #(nop)  CMD ["python3"]', "CMD", '["python3"]'),
        ("/bin/sh -c #(nop) ADD file:3c1d in / ", "ADD", "file:3c1d in /"),
        (
            "/bin/sh -c apt-get update && apt-get install -y gcc",
            "RUN",
            "apt-get update && apt-get install -y gcc",
        ),
        ("RUN /bin/sh -c go build ./... # buildkit", "RUN", "go build ./..."),
        ("RUN set -eux; apk add gcc # buildkit", "RUN", "set -eux; apk add gcc"),
        ("COPY . . # buildkit", "COPY", ". ."),
        ("ENV NODE_ENV=production", "ENV", "NODE_ENV=production"),
        (
            "RUN # debian.sh --arch 'amd64' out/ 'bookworm'",
            "RUN",
            "# debian.sh --arch 'amd64' out/ 'bookworm'",
        ),
    ],
)
def test_dialects_become_instruction_and_body(created_by: str, instruction: str, body: str) -> None:
    parsed_instruction, parsed_body, _ = parse_created_by(created_by)
    assert (parsed_instruction, parsed_body) == (instruction, body)


def test_buildkit_arg_prefix_is_stripped_and_kept_as_args() -> None:
    instruction, body, args = parse_created_by(
        "RUN |2 VERSION=1.4 TARGETARCH=amd64 /bin/sh -c make VERSION=$VERSION # buildkit"
    )
    assert instruction == "RUN"
    assert body == "make VERSION=$VERSION"
    assert args == (("VERSION", "1.4"), ("TARGETARCH", "amd64"))


def test_classic_arg_prefix_without_run_keyword() -> None:
    instruction, body, args = parse_created_by("|1 PKGS=gcc /bin/sh -c apk add $PKGS")
    assert (instruction, body, args) == ("RUN", "apk add $PKGS", (("PKGS", "gcc"),))


def test_heredoc_run_yields_its_script() -> None:
    _, body, _ = parse_created_by(
        "RUN /bin/sh -c <<EOF\napt-get update\napt-get install -y gcc\nEOF\n # buildkit"
    )
    assert body == "apt-get update\napt-get install -y gcc"


def test_buildkit_arg_values_with_spaces_end_at_the_next_declared_name() -> None:
    # BuildKit writes build-arg values unquoted (frontend/dockerfile/dockerfile2llb
    # runCommandString); the Paketo stack build.Dockerfile passes a package list this way.
    _, body, args = parse_created_by(
        "RUN |3 packages=build-essential git curl zlib1g-dev  package_args=--no-install-recommends"
        " sources= /bin/sh -c apt-get install -y $package_args $packages # buildkit",
        frozenset({"sources", "packages", "package_args"}),
    )
    assert body == "apt-get install -y $package_args $packages"
    assert dict(args) == {
        "packages": "build-essential git curl zlib1g-dev ",
        "package_args": "--no-install-recommends",
        "sources": "",
    }


def test_arg_values_with_newlines_and_words_that_look_like_assignments() -> None:
    # snyk/snyk-docker-plugin test/lib/dockerfile/instruction-parser.spec.ts records this shape.
    _, body, args = parse_created_by(
        "RUN |2 TEST_STRING_1=Test string one TEST_STRING_2=Test\nstring two /bin/sh -c apt"
        " install -y curl",
        frozenset({"TEST_STRING_1", "TEST_STRING_2"}),
    )
    assert body == "apt install -y curl"
    assert args == (("TEST_STRING_1", "Test string one"), ("TEST_STRING_2", "Test\nstring two"))
    _, _, args = parse_created_by(
        "RUN |1 APT=/usr/bin/apt-get -o Dpkg::Options::=--force-confold /bin/sh -c $APT update"
    )
    assert args == (("APT", "/usr/bin/apt-get -o Dpkg::Options::=--force-confold"),)


@pytest.mark.parametrize(
    "created_by",
    [
        "RUN --mount=type=cache,target=/root/.m2 mvn -B package",  # Kaniko: the original line
        "/bin/sh -c --mount=type=cache,target=/root/.m2 mvn -B package",  # Buildah
        "|1 V=1 /bin/sh -c --network=none --security=insecure mvn -B package",
    ],
)
def test_run_flags_are_not_the_command(created_by: str) -> None:
    assert parse_created_by(created_by)[1] == "mvn -B package"

"""Dockerfile lint: the final stage (and the stages it is built FROM) only."""

from __future__ import annotations

import pytest

from slimgate.analysis import rules
from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.findings import Method
from slimgate.errors import UsageError
from slimgate.sources.dockerfile import parse_dockerfile


def found(text: str, **build_args: str) -> list[str]:
    return [f.rule for f in lint(parse_dockerfile(text, build_args or None)).findings]


def test_toolchain_from_without_multi_stage_split() -> None:
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    analysis = lint(parse_dockerfile(text))
    assert {f.rule for f in analysis.findings} == {rules.TOOLCHAIN_BASE, rules.BUILD_IN_FINAL_IMAGE}
    assert analysis.base is not None
    assert analysis.base.method is Method.DOCKERFILE
    build = next(f for f in analysis.findings if f.rule == rules.BUILD_IN_FINAL_IMAGE)
    assert build.message.startswith("line 4 runs go build")


def test_multi_stage_golang_builder_with_distroless_final_is_clean() -> None:
    text = (
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n"
        'FROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\nENTRYPOINT ["/app"]\n'
    )
    assert found(text) == []


def test_arg_parameterised_from() -> None:
    text = "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}-alpine\nCOPY . .\nRUN go build .\n"
    dockerfile = parse_dockerfile(text)
    assert dockerfile.stages[0].base == "golang:1.22-alpine"
    assert dockerfile.stages[0].raw_base == "golang:${GO_VERSION}-alpine"
    assert rules.TOOLCHAIN_BASE in found(text)


def test_build_arg_overrides_the_default() -> None:
    text = "ARG BASE=golang:1.22\nFROM ${BASE}\nCOPY app /app\n"
    assert found(text) == [rules.TOOLCHAIN_BASE]
    assert found(text, BASE="gcr.io/distroless/static") == []


def test_final_stage_built_from_an_earlier_stage_inherits_it() -> None:
    text = (
        "FROM node:22 AS deps\nCOPY package*.json ./\nRUN npm ci\n"
        "FROM deps\nCOPY . .\nRUN npm run build\n"
    )
    assert set(found(text)) == {
        rules.FULL_LANGUAGE_BASE,
        rules.DEV_DEPENDENCIES,
        rules.BUILD_IN_FINAL_IMAGE,
    }


def test_production_node_final_stage_is_clean() -> None:
    text = (
        "FROM node:22 AS build\nCOPY . .\nRUN npm ci && npm run build\n"
        "FROM node:22-slim\nENV NODE_ENV=production\nCOPY package*.json ./\nRUN npm ci\n"
        "COPY --from=build /dist ./dist\n"
    )
    assert found(text) == []


def test_sdk_copied_from_an_image() -> None:
    text = "FROM debian:bookworm-slim\nCOPY --from=golang:1.22 /usr/local/go /usr/local/go\n"
    assert found(text) == [rules.SDK_COPIED]


def test_toolchain_kept_in_a_run() -> None:
    text = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc libpq-dev\n"
    analysis = lint(parse_dockerfile(text))
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_INSTALLED]
    assert analysis.findings[0].saving is None
    assert analysis.findings[0].message.startswith("line 2 keeps gcc, libpq-dev")


def test_no_from_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_dockerfile("RUN echo hi\n")


def test_heredoc_run_is_read_as_its_script() -> None:
    text = (
        "# syntax=docker/dockerfile:1.7\nFROM debian:bookworm-slim\n"
        "RUN <<EOF\nset -e\napt-get update\napt-get install -y gcc\nEOF\n"
        "COPY app /app\n"
    )
    dockerfile = parse_dockerfile(text)
    assert [(i.keyword, i.line) for i in dockerfile.stages[0].instructions] == [
        ("RUN", 3),
        ("COPY", 8),
    ]
    analysis = lint(dockerfile)
    assert [f.rule for f in analysis.findings] == [rules.TOOLCHAIN_INSTALLED]
    assert analysis.findings[0].message.startswith("line 3 keeps gcc")


def test_heredoc_lines_are_not_instructions() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN <<-'EOF' bash\n\techo FROM golang:1.22 > /notes\n\t# ARG X\n\tEOF\n"
        "COPY <<EOF /etc/app.conf\nFROM=golang\nEOF\n"
        'CMD ["sh"]\n'
    )
    dockerfile = parse_dockerfile(text)
    assert len(dockerfile.stages) == 1
    assert [i.keyword for i in dockerfile.stages[0].instructions] == ["RUN", "COPY", "CMD"]
    assert found(text) == []


def test_quoted_or_unterminated_heredoc_marker_is_plain_text() -> None:
    text = (
        'FROM debian:bookworm-slim\nRUN echo "<<EOF" > /notes\n'
        "RUN apt-get install -y gcc\nRUN cat <<END\nCOPY app /app\n"
    )
    dockerfile = parse_dockerfile(text)
    assert [i.keyword for i in dockerfile.stages[0].instructions] == ["RUN", "RUN", "RUN", "COPY"]
    assert found(text) == [rules.TOOLCHAIN_INSTALLED]


def test_alternative_value_build_arg_in_from() -> None:
    text = "ARG TAG\nFROM golang${TAG:+:$TAG}\nCOPY app /app\n"
    assert parse_dockerfile(text).stages[0].base == "golang"
    assert parse_dockerfile(text, {"TAG": "1.22"}).stages[0].base == "golang:1.22"


def test_an_arg_without_a_default_is_unset_until_a_build_arg_sets_it() -> None:
    text = "ARG BASE\nFROM ${BASE-golang:1.22}\nCOPY app /app\n"
    assert parse_dockerfile(text).stages[0].base == "golang:1.22"
    assert parse_dockerfile(text, {"BASE": "alpine:3.20"}).stages[0].base == "alpine:3.20"


def test_a_build_arg_reaches_from_only_through_a_global_arg() -> None:
    text = "FROM ${BASE:-golang:1.22}\nCOPY app /app\n"
    # Docker ignores --build-arg BASE here: FROM sees only ARGs declared before it.
    assert parse_dockerfile(text, {"BASE": "alpine:3.20"}).stages[0].base == "golang:1.22"


def test_spans_preamble_and_comments_are_kept_for_rewriting() -> None:
    text = (
        "\ufeff# syntax=docker/dockerfile:1\r\n"
        "ARG GO=1.23\r\n"
        "FROM golang:${GO}\r\n"
        "RUN apt-get update \\\r\n"
        "    # inside the continuation\r\n"
        "    && apt-get install -y gcc\r\n"
        "RUN <<EOF\r\n"
        "echo hi\r\n"
        "EOF\r\n"
        "COPY . .\r\n"
    )
    dockerfile = parse_dockerfile(text)
    assert dockerfile.stages[0].base == "golang:1.23"  # the BOM is not part of a keyword
    assert [(i.keyword, i.line) for i in dockerfile.preamble] == [("ARG", 2)]
    assert [(c.value, c.line) for c in dockerfile.comments] == [
        ("syntax=docker/dockerfile:1", 1),
        ("inside the continuation", 5),
    ]
    spans = [(i.keyword, i.line, i.last_line) for i in dockerfile.stages[0].instructions]
    assert spans == [("RUN", 4, 6), ("RUN", 7, 9), ("COPY", 10, 10)]


@pytest.mark.parametrize(
    ("source", "paths", "expected"),
    [
        ("eclipse-temurin:17-jre", "/opt/java/openjdk /opt/java/openjdk", []),
        ("eclipse-temurin:21-jre-alpine", "$JAVA_HOME $JAVA_HOME", []),
        ("eclipse-temurin:21-jdk", "$JAVA_HOME $JAVA_HOME", [rules.JDK_RUNTIME]),
        ("eclipse-temurin:21", "/opt/java/openjdk /opt/java/openjdk", [rules.JDK_RUNTIME]),
    ],
)
def test_a_java_home_copied_from_an_image_is_what_that_image_is(
    source: str, paths: str, expected: list[str]
) -> None:
    """``COPY --from=eclipse-temurin:17-jre /opt/java/openjdk ...`` brings a JRE (the path
    is the same in the JDK image); the image named, not the path, tells which."""
    text = (
        "FROM postgres:17\nENV JAVA_HOME=/opt/java/openjdk\n"
        f"COPY --from={source} {paths}\nCOPY app.jar /app/app.jar\n"
    )
    assert found(text) == expected


def _copied(deps: str, copy: str) -> list[str]:
    text = (
        f"FROM node:20 AS deps\nWORKDIR /srv/app\nCOPY . .\n{deps}\n"
        f'FROM gcr.io/distroless/nodejs20-debian12\n{copy}\nCMD ["server.js"]\n'
    )
    return [
        f.message for f in lint(parse_dockerfile(text)).findings if f.rule == rules.DEV_DEPENDENCIES
    ]


@pytest.mark.parametrize(
    "copy",
    [
        "COPY --from=deps /srv/app /srv/app",
        "COPY --from=deps /srv /srv",
        "COPY --from=deps srv/app/node_modules ./node_modules",
        "COPY --from=0 /srv/app/ /srv/app/",
        'COPY --from=deps --chown=node:node ["/srv/app", "/srv/app"]',
    ],
)
def test_a_copy_of_another_stages_dev_dependencies_ships_them(copy: str) -> None:
    (message,) = _copied("RUN npm install", copy)
    assert message.startswith("line 6 copies /srv")
    assert "dev dependencies" in message
    assert "line 4" in message


@pytest.mark.parametrize(
    ("deps", "copy"),
    [
        ("RUN npm ci --omit=dev", "COPY --from=deps /srv/app /srv/app"),
        ("RUN npm ci && npm run build && npm prune --omit=dev", "COPY --from=deps /srv /srv"),
        ("RUN npm ci\nRUN npm run build\nRUN npm prune --production", "COPY --from=deps /srv /srv"),
        ("RUN npm ci", "COPY --from=deps /srv/app/dist /srv/app/dist"),  # the build output only
        ("RUN npm ci", "COPY --from=node:20 /srv/app /srv/app"),  # an image, not the stage
        ("RUN pip install -r requirements-dev.txt", "COPY --from=deps /srv/app /srv/app"),
    ],
)
def test_a_copy_without_dev_dependencies_is_clean(deps: str, copy: str) -> None:
    assert _copied(deps, copy) == []


def test_an_env_value_takes_the_build_arg_it_names() -> None:
    text = (
        'ARG NODE_ENV="production"\nFROM node:20-slim\nARG NODE_ENV\n'
        'ENV NODE_ENV="${NODE_ENV}"\nCOPY . .\nRUN npm ci\nCMD ["node", "server.js"]\n'
    )
    assert rules.DEV_DEPENDENCIES not in found(text)
    assert rules.DEV_DEPENDENCIES in found(text, NODE_ENV="development")


@pytest.mark.parametrize(
    ("copy", "toolchain"),
    [
        ("COPY --from=builder /usr/local/cargo/bin/feed /usr/local/bin/feed", False),
        ("COPY --from=builder /root/.cargo/bin/feed /feed", False),
        ("COPY --from=builder /usr/local/cargo /usr/local/cargo", True),
        ("COPY --from=builder /usr/local/cargo/bin /usr/local/cargo/bin", True),
        ("COPY --from=builder /usr/local/cargo/bin/* /usr/local/bin/", True),
        ("COPY --from=rust:1 /usr/local/cargo/bin/cargo /usr/local/bin/cargo", True),
        ("COPY --from=builder /usr/local/rustup /usr/local/rustup", True),
    ],
)
def test_a_binary_cargo_install_put_in_cargo_home_is_not_the_toolchain(
    copy: str, toolchain: bool
) -> None:
    text = (
        f"FROM rust:1 AS builder\nRUN cargo install --path .\nFROM debian:bookworm-slim\n{copy}\n"
    )
    assert (rules.SDK_COPIED in found(text)) is toolchain


@pytest.mark.parametrize(
    ("base", "jdk"),
    [
        ("amazoncorretto:21-al2023-headless", False),
        ("amazoncorretto:17-al2023-headful", False),
        ("amazoncorretto:17-alpine", True),
        ("mcr.microsoft.com/openjdk/jdk:17-distroless", True),
        ("mcr.microsoft.com/openjdk/jdk:21-ubuntu", True),
    ],
)
def test_a_java_base_is_a_jdk_by_what_its_tag_installs(base: str, jdk: bool) -> None:
    text = f'FROM {base}\nCOPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n'
    assert (rules.JDK_RUNTIME in found(text)) is jdk


@pytest.mark.parametrize(
    ("base", "full"),
    [
        ("registry.access.redhat.com/ubi9/python-311", True),
        ("registry.access.redhat.com/ubi8/nodejs-18:1-42", True),
        ("registry.access.redhat.com/ubi9/nodejs-18-minimal", False),
        ("registry.access.redhat.com/ubi9/python-312-minimal", False),
    ],
)
def test_an_s2i_language_image_keeps_its_builder_toolchain(base: str, full: bool) -> None:
    text = f'FROM {base}\nCOPY . .\nCMD ["run"]\n'
    assert (rules.FULL_LANGUAGE_BASE in found(text)) is full


def test_a_copied_install_is_found_under_a_workdir_named_by_a_variable() -> None:
    text = (
        "FROM node:20 AS deps\nENV APP_HOME=/srv/app\nWORKDIR $APP_HOME\nCOPY . .\n"
        "RUN npm install\nFROM node:20-slim\nCOPY --from=deps /srv/app /srv/app\n"
    )
    assert rules.DEV_DEPENDENCIES in found(text)

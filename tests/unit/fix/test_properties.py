"""``plan_fix`` on generated single-stage Dockerfiles: whatever the stage holds, the planner
answers with a result (fixed, clean or cannot, with a message), never an exception.
``slimgate lint`` asks it for every Dockerfile it warns about, so a crash here would be a
crash of lint."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimgate.errors import TooComplex, UsageError
from slimgate.fix import FixResult, Status, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile

BASES = st.sampled_from(
    [
        *("golang:1.23", "golang:1.23-alpine", "node:22", "node:22-slim", "python:3.12"),
        *("python:3.12-slim", "maven:3-eclipse-temurin-21", "eclipse-temurin:21-jdk"),
        *("gradle:8-jdk17", "rust:1", "gcc:14", "ruby:3.4", "php:8.3-cli", "ubuntu:24.04"),
        *("mcr.microsoft.com/dotnet/sdk:8.0", "openjdk:17", "debian", "$BASE", "scratch"),
        *("registry.access.redhat.com/ubi9/openjdk-17", "cgr.dev/chainguard/go:latest"),
    ]
)
RUNS = st.sampled_from(
    [
        *("go build -o /app .", "CGO_ENABLED=0 go build ./cmd/x", "go mod download"),
        *("npm ci", "npm install", "npm run build", "yarn install", "pnpm install --prod"),
        *("pip install -r requirements.txt", "poetry install", "uv sync", "pip install ."),
        *("mvn -B package", "./mvnw package -DskipTests", "gradle bootJar", "./gradlew build"),
        *("cargo build --release", "dotnet publish -c Release -o /out", "make", "gcc -o a a.c"),
        *("bundle install", "composer install", "docker-php-ext-install pdo_mysql"),
        *("apt-get update && apt-get install -y build-essential libpq-dev", "apk add gcc"),
        *("yum install -y java-21-openjdk-devel", "echo hi", "", "$CMD", "cd /x && make"),
    ]
)
LINES = st.one_of(
    RUNS.map(lambda r: f"RUN {r}"),
    st.sampled_from(
        [
            *("COPY . .", "COPY . /src", "ADD app.tar.gz /app", "WORKDIR /app", "WORKDIR src"),
            *("USER 1000", "USER node", "ENV X=1", "ARG VERSION=1", "EXPOSE 8080"),
            *('CMD ["./app"]', "CMD npm start", 'ENTRYPOINT ["java", "-jar", "app.jar"]'),
            *('CMD ["python", "-m", "app"]', 'ENTRYPOINT ["dotnet", "App.dll"]', "CMD"),
            *("HEALTHCHECK CMD curl -f http://localhost/", "LABEL a=b", 'SHELL ["bash"]'),
        ]
    ),
    st.text(max_size=20).map(lambda t: f"RUN {t}"),
)
DOCKERFILES = st.tuples(
    st.lists(st.sampled_from(["ARG BASE=golang:1.23", "# syntax=docker/dockerfile:1"])),
    BASES,
    st.lists(LINES, max_size=12),
).map(lambda p: "\n".join([*p[0], f"FROM {p[1]}", *p[2]]) + "\n")


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(DOCKERFILES)
def test_the_planner_always_answers(text: str) -> None:
    try:
        dockerfile = parse_dockerfile(text)
    except (TooComplex, UsageError):
        return
    result = plan_fix(dockerfile, text)
    assert isinstance(result, FixResult)
    assert result.message
    if result.status is Status.FIXED:
        assert result.text is not None
        assert parse_dockerfile(result.text).final is not None

"""A JDK installed from a distribution's packages is replaced by the JRE package of the
same major, in every package family slimgate reads."""

from __future__ import annotations

import pytest

from slimgate.analysis.dockerfile_lint import lint
from slimgate.fix import Status, plan_fix
from slimgate.fix.ecosystems.java import jre_for, jre_package
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.project_files import fixed


@pytest.mark.parametrize(
    ("jdk", "jre"),
    [
        ("openjdk-17-jdk", "openjdk-17-jre-headless"),
        ("openjdk-21-jdk-headless", "openjdk-21-jre-headless"),
        ("default-jdk", "default-jre-headless"),
        ("openjdk17", "openjdk17-jre-headless"),
        ("openjdk21-jdk", "openjdk21-jre-headless"),
        ("java-17-openjdk-devel", "java-17-openjdk-headless"),
        ("java-1.8.0-openjdk-devel", "java-1.8.0-openjdk-headless"),
        ("temurin-21-jdk", "temurin-21-jre"),
        ("java-17-amazon-corretto-devel", "java-17-amazon-corretto-headless"),
        ("java-21-openjdk-jmods", ""),
        ("msopenjdk-21", None),
        ("openjdk-17-jdk=17.0.9+9-1", "openjdk-17-jre-headless"),
    ],
)
def test_each_jdk_package_has_its_jre(jdk: str, jre: str | None) -> None:
    assert jre_package(jdk) == jre


@pytest.mark.parametrize(
    ("base", "install"),
    [
        (
            "ubuntu:24.04",
            "apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk",
        ),
        ("alpine:3.20", "apk add --no-cache openjdk17"),
        ("amazonlinux:2023", "dnf install -y java-17-amazon-corretto-devel"),
    ],
)
def test_a_prebuilt_jar_on_a_distribution_jdk_keeps_its_base_and_installs_the_jre(
    base: str, install: str
) -> None:
    text = f'FROM {base}\nRUN {install}\nCOPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n'
    written = fixed(text)
    dockerfile = parse_dockerfile(written)
    assert len(dockerfile.stages) == 1
    assert dockerfile.final is not None
    assert dockerfile.final.base == base
    install_line = written.split("RUN ", 1)[1].split("\n", 1)[0]
    assert "jre" in install_line or "headless" in install_line
    assert not lint(dockerfile).findings


def test_a_jdk_without_a_known_jre_package_is_not_guessed() -> None:
    # beside a JDK whose JRE is known, so swapping only that one would be a half-swap
    text = (
        "FROM ubuntu:24.04\nRUN apt-get install -y openjdk-17-jdk msopenjdk-21\n"
        'CMD ["java", "-jar", "/a.jar"]\n'
    )
    result = plan_fix(parse_dockerfile(text), text)
    assert result.status is Status.CANNOT
    assert result.text is None


def test_a_build_on_a_distribution_jdk_is_not_rewritten_as_a_package_swap() -> None:
    text = (
        "FROM ubuntu:24.04\nRUN apt-get install -y openjdk-17-jdk maven\nCOPY . /src\n"
        'RUN cd /src && mvn -B package\nCMD ["java", "-jar", "/src/target/app.jar"]\n'
    )
    result = plan_fix(parse_dockerfile(text), text)
    assert result.text is None or "openjdk-17-jre-headless" not in result.text


@pytest.mark.parametrize(
    ("repository", "tag", "jre"),
    [
        ("amazoncorretto", "21", "amazoncorretto:21-al2023-headless"),
        ("amazoncorretto", "17-al2023-jdk", "amazoncorretto:17-al2023-headless"),
        ("amazoncorretto", "17-alpine3.19", "eclipse-temurin:17-jre-alpine"),
        ("amazoncorretto", "8", "amazoncorretto:8-al2023-jre"),
        ("amazoncorretto", "8-alpine", "amazoncorretto:8-alpine-jre"),
        ("maven", "3-amazoncorretto-21", "amazoncorretto:21-al2023-headless"),
        ("maven", "3-amazoncorretto-17-alpine", "eclipse-temurin:17-jre-alpine"),
        ("gradle", "8-jdk17-corretto", "amazoncorretto:17-al2023-headless"),
        ("mcr.microsoft.com/openjdk/jdk", "17-distroless", "eclipse-temurin:17-jre"),
    ],
)
def test_the_jre_image_of_a_corretto_or_microsoft_jdk(repository: str, tag: str, jre: str) -> None:
    found = jre_for(repository, tag)
    assert found is not None
    assert found[0] == jre

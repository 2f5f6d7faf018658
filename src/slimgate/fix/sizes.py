"""Compressed sizes of base images, as recorded by their publishers, with the source.

The estimate needs a figure for the base of today's image and for the runtime base of the
fix. Most come from docker-library ``repo-info`` (linux/amd64, exact bytes, the same
snapshots as ``tests/fixtures/corpus/``, each pinned to the commit it was read at); a test
checks that every figure taken from the corpus equals the corpus file. Images that
repo-info does not cover carry the publisher's own published figure, which is rounded.
A tag is matched to the recorded tag of its family and variant (``golang:1.23`` uses the
figure of ``golang:1-bookworm``), and the estimate names the tag it used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimgate.analysis.base import split_reference

_REPO_INFO = "docker-library/repo-info"


@dataclass(frozen=True, slots=True)
class Recorded:
    reference: str  # the tag the figure is for
    size: int  # compressed bytes, linux/amd64
    source: str
    exact: bool = True


def _repo_info(reference: str, size: int, path: str, commit: str) -> Recorded:
    return Recorded(reference, size, f"{_REPO_INFO} {path}@{commit}")


RECORDED: dict[str, Recorded] = {
    r.reference: r
    for r in (
        _repo_info("alpine:3.24", 3849738, "repos/alpine/remote/3.24.md", "1746b5874918"),
        _repo_info(
            "buildpack-deps:bookworm",
            348576534,
            "repos/buildpack-deps/remote/bookworm.md",
            "12f71ea34b54",
        ),
        _repo_info(
            "debian:bookworm-slim", 28232590, "repos/debian/remote/bookworm-slim.md", "05f354f0a08a"
        ),
        _repo_info("debian:bookworm", 48497091, "repos/debian/remote/bookworm.md", "05f354f0a08a"),
        _repo_info(
            "eclipse-temurin:21-jdk",
            230080573,
            "repos/eclipse-temurin/remote/21-jdk.md",
            "11bfd4f99b51",
        ),
        _repo_info(
            "eclipse-temurin:21-jre",
            121136054,
            "repos/eclipse-temurin/remote/21-jre.md",
            "11bfd4f99b51",
        ),
        _repo_info("gcc:14", 540435944, "repos/gcc/remote/14.md", "19a1212ae0f7"),
        _repo_info("golang:1-alpine", 75169503, "repos/golang/remote/1-alpine.md", "274d39a50141"),
        _repo_info(
            "golang:1-bookworm", 296751328, "repos/golang/remote/1-bookworm.md", "21d295b53669"
        ),
        _repo_info("gradle:8-jdk21", 412641748, "repos/gradle/remote/8-jdk21.md", "04bf269c7a19"),
        _repo_info(
            "maven:3-eclipse-temurin-21",
            242713952,
            "repos/maven/remote/3-eclipse-temurin-21.md",
            "0f6233cdc6cd",
        ),
        _repo_info("nginx:stable", 66084169, "repos/nginx/remote/stable.md", "084413589796"),
        _repo_info("node:22-alpine", 60697390, "repos/node/remote/22-alpine.md", "4211a1635d90"),
        _repo_info(
            "node:22-bookworm-slim",
            79893445,
            "repos/node/remote/22-bookworm-slim.md",
            "3179cb4d576b",
        ),
        _repo_info(
            "node:22-bookworm", 408499334, "repos/node/remote/22-bookworm.md", "3179cb4d576b"
        ),
        _repo_info("php:8.3-cli", 180603476, "repos/php/remote/8.3-cli.md", "009a9cc25669"),
        _repo_info(
            "python:3.12-alpine", 18037743, "repos/python/remote/3.12-alpine.md", "2f6ab1f165b6"
        ),
        _repo_info(
            "python:3.12-bookworm",
            380573758,
            "repos/python/remote/3.12-bookworm.md",
            "1d9af683c592",
        ),
        _repo_info(
            "python:3.12-slim-bookworm",
            45437565,
            "repos/python/remote/3.12-slim-bookworm.md",
            "33a22f41ac7b",
        ),
        _repo_info(
            "ruby:3.4-bookworm", 390222359, "repos/ruby/remote/3.4-bookworm.md", "022ad7fded16"
        ),
        _repo_info(
            "ruby:3.4-slim-bookworm",
            73612206,
            "repos/ruby/remote/3.4-slim-bookworm.md",
            "1457e322b492",
        ),
        _repo_info("rust:1-bookworm", 566462148, "repos/rust/remote/1-bookworm.md", "0afc2e650567"),
        _repo_info("ubuntu:24.04", 29764116, "repos/ubuntu/remote/24.04.md", "1c2b9d920fdd"),
        Recorded(
            "gcr.io/distroless/static-debian12",
            2 * 1024 * 1024,
            "GoogleContainerTools/distroless README.md: the image is 'around 2 MiB'",
            exact=False,
        ),
        Recorded(
            "gcr.io/distroless/base-debian12",
            20_000_000,
            "published comparisons of distroless bases (about 20 MB compressed)",
            exact=False,
        ),
        Recorded(
            "mcr.microsoft.com/dotnet/aspnet:8.0",
            90_900_000,
            "dotnet/dotnet-docker documentation/sample-image-size-report.md: aspnet:8.0-jammy "
            "with the releasesapi sample, 90.9 MB compressed",
            exact=False,
        ),
        Recorded("scratch", 0, "the empty image"),
    )
}

# (repository, a regular expression over the tag, the recorded tag whose figure applies);
# the first matching row wins.
FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("golang", r"alpine", "golang:1-alpine"),
    ("golang", r"", "golang:1-bookworm"),
    ("rust", r"^(?!.*alpine)", "rust:1-bookworm"),
    ("gcc", r"", "gcc:14"),
    ("buildpack-deps", r"^(?!.*(curl|scm))", "buildpack-deps:bookworm"),
    ("maven", r"eclipse-temurin|^\d[\d.]*$|^latest$", "maven:3-eclipse-temurin-21"),
    ("gradle", r"^(?!.*(alpine|corretto|graal|ubi))", "gradle:8-jdk21"),
    ("eclipse-temurin", r"^(?!.*alpine).*jre", "eclipse-temurin:21-jre"),
    ("eclipse-temurin", r"^(?!.*alpine)", "eclipse-temurin:21-jdk"),
    ("node", r"alpine", "node:22-alpine"),
    ("node", r"slim", "node:22-bookworm-slim"),
    ("node", r"", "node:22-bookworm"),
    ("python", r"alpine", "python:3.12-alpine"),
    ("python", r"slim", "python:3.12-slim-bookworm"),
    ("python", r"", "python:3.12-bookworm"),
    ("ruby", r"slim", "ruby:3.4-slim-bookworm"),
    ("ruby", r"^(?!.*alpine)", "ruby:3.4-bookworm"),
    ("php", r"^(?!.*alpine)", "php:8.3-cli"),
    ("debian", r"slim", "debian:bookworm-slim"),
    ("debian", r"", "debian:bookworm"),
    ("ubuntu", r"", "ubuntu:24.04"),
    ("alpine", r"", "alpine:3.24"),
    ("nginx", r"^(?!.*alpine)", "nginx:stable"),
    ("gcr.io/distroless/static-debian12", r"", "gcr.io/distroless/static-debian12"),
    ("gcr.io/distroless/static", r"", "gcr.io/distroless/static-debian12"),
    ("gcr.io/distroless/base-debian12", r"", "gcr.io/distroless/base-debian12"),
    (
        "mcr.microsoft.com/dotnet/aspnet",
        r"^(?!.*(alpine|chiseled))",
        "mcr.microsoft.com/dotnet/aspnet:8.0",
    ),
    ("scratch", r"", "scratch"),
)


def recorded_for(reference: str) -> Recorded | None:
    """The recorded figure for the family and variant of ``reference`` (None: not known)."""
    if reference.strip() == "scratch":
        return RECORDED["scratch"]
    repository, tag = split_reference(reference)
    for family, pattern, recorded in FAMILIES:
        if repository == family and re.search(pattern, tag):
            return RECORDED[recorded]
    return None

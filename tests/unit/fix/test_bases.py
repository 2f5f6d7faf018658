"""The runtime image derived from the build image, however the FROM line names it."""

from __future__ import annotations

import pytest

from slimgate.fix import Status, bases, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.project_files import MemoryFiles


@pytest.mark.parametrize(
    ("raw", "base", "repository", "tag", "runtime"),
    [
        ("python:3.11", "python:3.11", "python", "3.11", "python:3.11-slim"),
        ("node:${NODE_VERSION}", "node:20", "node", "20", "node:${NODE_VERSION}-slim"),
        ("${BASE_IMAGE}", "python:3.11", "python", "3.11", "python:3.11-slim"),
        ("$BUILDER", "node:20-bookworm", "node", "20-bookworm", "node:20-bookworm-slim"),
        (
            "${REGISTRY}/library/ruby:3.3",
            "r.example/library/ruby:3.3",
            "ruby",
            "3.3",
            "${REGISTRY}/library/ruby:3.3-slim",  # the argument stays where a tag follows it
        ),
    ],
)
def test_the_slim_runtime_is_a_valid_reference(
    raw: str, base: str, repository: str, tag: str, runtime: str
) -> None:
    assert bases.slim_runtime(raw, base, repository, tag) == runtime


def test_an_onbuild_base_is_refused_with_what_to_write_out() -> None:
    text = "FROM node:8-onbuild\nEXPOSE 3000\n"
    files = MemoryFiles({"package.json": '{"name": "a", "scripts": {"start": "node a.js"}}'})
    result = plan_fix(parse_dockerfile(text), text, files)
    assert result.status is Status.CANNOT
    assert "ONBUILD" in result.message
    assert "without -onbuild" in result.message

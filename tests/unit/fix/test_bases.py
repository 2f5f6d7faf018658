"""The runtime image derived from the build image, however the FROM line names it."""

from __future__ import annotations

import pytest

from slimgate.fix import bases


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


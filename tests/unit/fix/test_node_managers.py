"""Which yarn the Node.js plan prunes with: Yarn 2 and later take no ``--production``."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from slimgate.fix import bases
from tests.support.project_files import fixed

PACKAGE = '{"name": "bot", "scripts": {"build": "tsc", "start": "node build/index.js"}%s}'


def _deps_line(install: str, files: Mapping[str, str]) -> str:
    text = (
        f'FROM node:20\nWORKDIR /app\nCOPY . .\n{install}\nRUN yarn build\nCMD ["yarn", "start"]\n'
    )
    written = fixed(text, {"yarn.lock": "", **files})
    return next(line for line in written.splitlines() if "--production" in line)


@pytest.mark.parametrize(
    ("install", "files"),
    [
        ("RUN yarn install --immutable", {"package.json": PACKAGE % ""}),
        ("RUN yarn set version berry && yarn install", {"package.json": PACKAGE % ""}),
        ("RUN yarn install", {"package.json": PACKAGE % ', "packageManager": "yarn@4.1.0"'}),
        ("RUN yarn install", {"package.json": PACKAGE % "", ".yarnrc.yml": ""}),
    ],
)
def test_yarn_2_or_later_is_pruned_with_workspaces_focus(
    install: str, files: Mapping[str, str]
) -> None:
    assert _deps_line(install, files) == "RUN yarn workspaces focus --all --production"


@pytest.mark.parametrize(
    ("install", "files"),
    [
        ("RUN yarn install --frozen-lockfile", {"package.json": PACKAGE % ""}),
        ("RUN yarn set version classic && yarn install", {"package.json": PACKAGE % ""}),
        ("RUN yarn install", {"package.json": PACKAGE % ', "packageManager": "yarn@1.22.22"'}),
    ],
)
def test_yarn_1_is_pruned_with_install_production(install: str, files: Mapping[str, str]) -> None:
    assert _deps_line(install, files).startswith("RUN yarn install --production")


@pytest.mark.parametrize(
    ("tag", "runtime"),
    [
        ("1", "1-slim"),
        ("latest", "slim"),
        ("1.1.38-debian", "1.1.38-slim"),
        ("debian", "slim"),
        ("1-alpine", "1-alpine"),
        ("1-distroless", "1-distroless"),
    ],
)
def test_bun_runs_on_its_slim_tag(tag: str, runtime: str) -> None:
    assert bases.slim_tag("oven/bun", tag) == runtime

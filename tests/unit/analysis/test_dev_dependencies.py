"""dev-dependencies: installs with and without a production flag."""

from __future__ import annotations

import pytest

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.knowledge import Knowledge
from tests.support import corpus


def dev(script: str, env: tuple[str, ...] = ()) -> bool:
    image = corpus.extend(
        corpus.load("node-22-bookworm-slim"),
        [("WORKDIR /app", 93), (f"RUN /bin/sh -c {script} # buildkit", 1000)],
        env=env,
    )
    return any(
        f.rule == rules.DEV_DEPENDENCIES for f in analyse(image, Knowledge.default()).findings
    )


@pytest.mark.parametrize(
    "script",
    [
        "npm ci",
        "npm install",
        "npm ci --no-audit --no-fund",
        "yarn install --frozen-lockfile",
        "yarn",
        "pnpm install --frozen-lockfile",
        "bun install --frozen-lockfile",
        "bun i",
        "npm install --production=false",
        "yarn install --production=false --frozen-lockfile",
        "pip install -r requirements-dev.txt",
        "pip install -e '.[dev]'",
        "poetry install --no-root",
        "poetry install --without docs",
        "bundle install --without test",
        "bundle install",
        "composer install --no-interaction",
        "uv sync --frozen",
        "pipenv install --dev",
    ],
)
def test_installs_with_dev_dependencies(script: str) -> None:
    assert dev(script)


@pytest.mark.parametrize(
    "script",
    [
        "npm ci --omit=dev",
        "npm ci --omit dev",
        "npm install --production",
        "NODE_ENV=production npm ci",
        "export NODE_ENV=production && npm ci",
        "npm install -g pnpm",
        "npm install express",
        "yarn install --production --frozen-lockfile",
        "pnpm install --prod",
        "bun install --frozen-lockfile --production",
        "bun add hono",
        "pip install -r requirements.txt",
        "poetry install --only main",
        "poetry install --without dev",
        "bundle install --without development test",
        "bundle install --without=development,test",
        "bundle install --without development:test --jobs 4",
        "BUNDLE_WITHOUT=test:development bundle install",
        "poetry install --without=dev,test",
        "POETRY_WITHOUT=test,dev poetry install",
        "bundle install --without=development",
        "poetry install --without test,docs,dev --no-root",
        "bundle config set without 'development test' && bundle install",
        "composer install --no-dev",
        "uv sync --no-dev",
        "echo npm ci",
    ],
)
def test_production_installs_are_clean(script: str) -> None:
    assert not dev(script)


def test_node_env_production_in_the_image_environment_is_clean() -> None:
    assert not dev("npm ci", env=("NODE_ENV=production",))


@pytest.mark.parametrize(
    "script",
    ["npm ci --include=dev", "npm install --production=false", "pnpm install --prod=false"],
)
def test_dev_dependencies_asked_for_are_installed_whatever_node_env_says(script: str) -> None:
    assert dev(script, env=("NODE_ENV=production",))


def test_a_production_flag_set_false_does_not_prune() -> None:
    assert dev("npm ci && npm run build && npm prune --production=false")


def test_bundle_without_in_the_image_environment_is_clean() -> None:
    assert not dev("bundle install", env=("BUNDLE_WITHOUT=development:test",))


def test_installs_in_the_base_are_not_the_applications() -> None:
    # The final stage starts after the base: a dev install before the base boundary is ignored.
    base = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [("RUN /bin/sh -c npm ci # buildkit", 1000), ('CMD ["bash"]', None)],
    )
    app = corpus.extend(base, [("COPY --from=build /app /app # buildkit", 1000)])
    assert not any(
        f.rule == rules.DEV_DEPENDENCIES for f in analyse(app, Knowledge.default()).findings
    )


@pytest.mark.parametrize(
    "script",
    [
        "npm ci && npm run build && npm prune --production",
        "npm ci && npm run build && npm prune --omit=dev",
        "npm install && npm run build && NODE_ENV=production npm prune",
        "npm ci && npm run build && npm ci --omit=dev",
        "pnpm install --frozen-lockfile && pnpm build && pnpm prune --prod",
        "pnpm install && pnpm build && pnpm install --prod --offline",
        "yarn install --frozen-lockfile && yarn build && yarn install --production",
        "composer install && composer install --no-dev",
    ],
)
def test_an_install_pruned_later_in_the_same_step_is_clean(script: str) -> None:
    assert not dev(script)


@pytest.mark.parametrize(
    "script",
    [
        "npm prune --production && npm ci",  # the prune runs before the install
        "npm ci && npm run build && npm prune",  # a prune without production keeps them
        "npm ci && composer install --no-dev",  # another ecosystem's prune
    ],
)
def test_a_prune_that_does_not_follow_the_install_or_keeps_dev_is_not_one(script: str) -> None:
    assert dev(script)

"""Runtime base images, as data: what each offers (shell, users, package manager) and how
to derive a runtime tag from the build image's tag, pinned to the same version.

``slim_tag`` follows the tag conventions of the official images: node puts ``-slim`` after
the Debian codename (``22-bookworm-slim``), python and ruby before it
(``3.12-slim-bookworm``); ``alpine`` and ``slim`` tags are already runtime variants. When the
FROM line names its version through a build argument (``node:${NODE_VERSION}``), the
runtime keeps the argument (``node:${NODE_VERSION}-slim``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "noble", "jammy", "focal")
_PURE_VERSION = re.compile(r"^[0-9][0-9.]*$")
_SINGLE_ARG = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")


@dataclass(frozen=True, slots=True)
class Family:
    """What a runtime base offers: a shell, users, a package manager, a way to add a user."""

    shell: bool
    packages: str | None  # "apt", "apk" or None (no package manager)
    users: frozenset[str]
    add_user: tuple[str, ...]  # lines that add and select a non-root user
    tools: frozenset[str] = frozenset()  # probes a HEALTHCHECK may use


_DEBIAN_USER = (
    "RUN useradd --system --create-home --uid 10001 --user-group app",
    "USER app",
)
_ALPINE_USER = (
    "RUN addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app app",
    "USER app",
)

FAMILIES: dict[str, Family] = {
    "distroless": Family(False, None, frozenset({"nonroot", "65532"}), ("USER nonroot:nonroot",)),
    "scratch": Family(False, None, frozenset(), ("USER 65532:65532",)),
    "debian": Family(True, "apt", frozenset({"nobody", "www-data"}), _DEBIAN_USER),
    "alpine": Family(True, "apk", frozenset({"nobody"}), _ALPINE_USER, frozenset({"wget"})),
    "node": Family(True, "apt", frozenset({"node"}), ("USER node",)),
    "node-alpine": Family(True, "apk", frozenset({"node"}), ("USER node",), frozenset({"wget"})),
    "dotnet": Family(True, "apt", frozenset({"app"}), ("USER $APP_UID",)),
    "nginx-unprivileged": Family(
        True, None, frozenset({"nginx", "101"}), ("USER 101",), frozenset({"wget"})
    ),
    # Bun's images (oven/bun): Debian (slim) or alpine, with a ``bun`` user (uid 1000)
    "bun": Family(True, "apt", frozenset({"bun", "1000"}), ("USER bun",)),
    "bun-alpine": Family(
        True, "apk", frozenset({"bun", "1000"}), ("USER bun",), frozenset({"wget"})
    ),
    "php": Family(True, "apt", frozenset({"www-data"}), ("USER www-data",)),
    "php-alpine": Family(
        True, "apk", frozenset({"www-data"}), ("USER www-data",), frozenset({"wget"})
    ),
}


def family_of(image: str) -> Family:
    """The family of a runtime base by its name (the ones the planners choose)."""
    name = image.split("@")[0]
    if name.startswith("gcr.io/distroless/"):
        return FAMILIES["distroless"]
    if name == "scratch":
        return FAMILIES["scratch"]
    if "nginx-unprivileged" in name:
        return FAMILIES["nginx-unprivileged"]
    if name.startswith("mcr.microsoft.com/dotnet/"):
        return FAMILIES["dotnet"]
    alpine = "alpine" in name
    repository = name.rsplit("/", 1)[-1].split(":")[0]
    if repository == "node":
        return FAMILIES["node-alpine" if alpine else "node"]
    if name.startswith("oven/bun"):
        return FAMILIES["bun-alpine" if alpine else "bun"]
    if repository == "php":
        return FAMILIES["php-alpine" if alpine else "php"]
    return FAMILIES["alpine" if alpine else "debian"]


def codename(tag: str) -> str | None:
    return next((name for name in _CODENAMES if name in tag), None)


def slim_tag(repository: str, tag: str) -> str:
    """The runtime variant of a full-image tag of node, python, ruby or oven/bun."""
    if "alpine" in tag or "slim" in tag or "distroless" in tag:
        return tag
    if repository == "oven/bun":  # ``1-debian`` is the full image of ``1-slim``
        tag = "latest" if tag == "debian" else tag.removesuffix("-debian")
    if tag in ("latest", ""):
        return "slim"
    name = codename(tag)
    if name is None:
        return f"{tag}-slim"
    version = tag[: tag.index(name)].rstrip("-")
    if repository in ("node", "oven/bun"):
        return f"{version}-{name}-slim" if version else f"{name}-slim"
    return f"{version}-slim-{name}" if version else f"slim-{name}"


def keep_argument(raw_tag: str, tag: str, derived: str) -> str:
    """``derived`` written with the build argument of ``raw_tag`` where that is exact."""
    if derived == tag:
        return raw_tag
    if (
        "$" in raw_tag
        and _SINGLE_ARG.match(raw_tag)
        and _PURE_VERSION.match(tag)
        and derived.startswith(tag)
    ):
        return raw_tag + derived[len(tag) :]
    return derived


def raw_tag(raw_base: str) -> str:
    """The tag of a FROM image as written (``${GO_VERSION}-alpine``)."""
    name = raw_base.partition("@")[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[colon + 1 :] if colon > slash else "latest"


def slim_runtime(raw_base: str, base: str, repository: str, tag: str) -> str:
    """The slim runtime image of a build on ``base`` (``raw_base`` as the FROM line wrote
    it): the build argument of the tag is kept (``node:${NODE_VERSION}-slim``), but an
    argument that names the image itself (``FROM ${BASE_IMAGE}``) cannot take a tag, so
    the runtime is written out from the image it names (``python:3.11-slim``)."""
    slim = slim_tag(repository, tag)
    name = raw_base.partition("@")[0]
    tagged = name.rfind(":") > name.rfind("/")
    if not tagged and "$" in name and base and "$" not in base:
        return with_tag(base, slim)
    return with_tag(raw_base, keep_argument(raw_tag(raw_base), tag, slim))


def with_tag(raw_base: str, tag: str) -> str:
    """``raw_base`` with its tag replaced (a digest is dropped: it pins the build image)."""
    name = raw_base.partition("@")[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    return f"{name}:{tag}"

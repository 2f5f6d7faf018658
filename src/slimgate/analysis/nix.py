"""Read the Nix store paths that ``dockerTools`` writes where a Dockerfile writes commands.

``dockerTools.streamLayeredImage``/``buildLayeredImage`` leave ``created_by`` empty and put
the layer's contents in the history ``comment`` as a Python list
(``store paths: ['/nix/store/<32-char hash>-gcc-13.3.0', ...]``; nixpkgs
``pkgs/build-support/docker/stream_layered_image.py``). A store path names a package and
its version, and an output after a dash (``-lib``, ``-bin``, ``-man``...). Only the
compilers and SDKs themselves count: ``gcc-13.3.0-lib`` (libstdc++) and ``glibc-2.39-bin``
are what programs need at run time.
"""

from __future__ import annotations

import re

from slimgate.analysis.packages import Kept
from slimgate.analysis.signatures.packages import NIX_TOOLCHAIN, PACKAGE_CLASSES

PREFIX = "store paths: "
_STORE_PATH = re.compile(r"/nix/store/[0-9a-df-np-sv-z]{32}-([A-Za-z0-9+._?=-]+)")
# name-version[-output]: the version is the first dash-separated part starting with a digit.
_NAME_VERSION = re.compile(
    r"^(?P<name>.+?)-(?P<version>\d[^-]*(?:-\d[^-]*)*)(?:-(?P<out>[a-z]+))?$"
)
_CLASSES = {klass.name: klass for klass in PACKAGE_CLASSES}
# Outputs that carry no compiler or SDK (nixpkgs multiple-output derivations).
_RUNTIME_OUTPUTS = frozenset({"lib", "man", "doc", "info", "debug", "jre", "locales"})
STORE_PATHS_LIMIT = 2_000  # paths read from one comment (the rest are not looked at)


def store_names(comment: str | None) -> list[str]:
    """``name-version[-output]`` of each store path in a ``store paths:`` comment."""
    if not comment or not comment.startswith(PREFIX):
        return []
    names = []
    for number, match in enumerate(_STORE_PATH.finditer(comment)):
        if number >= STORE_PATHS_LIMIT:
            break
        names.append(match.group(1))
    return names


def store_path_kept(comment: str | None) -> tuple[Kept, ...]:
    """The toolchain the store paths of a layer put in the image (empty when none)."""
    kept: list[Kept] = []
    for full in store_names(comment):
        parsed = _NAME_VERSION.match(full)
        if parsed is None or parsed.group("out") in _RUNTIME_OUTPUTS:
            continue
        klass_name = NIX_TOOLCHAIN.get(parsed.group("name"))
        if klass_name is not None:
            kept.append(Kept(full, _CLASSES[klass_name]))
    return tuple(kept)

"""Names an architecture goes by in shell scripts of official images.

A ``case "$dpkgArch" in amd64) ...`` branch installs for one architecture only; to know
which branch ran for the image being checked we need every spelling of its architecture:
Go/OCI names (``amd64``), dpkg names (``amd64``, ``armhf``, ``ppc64el``), apk and
``uname -m`` names (``x86_64``, ``aarch64``), Node.js download names (``x64``).
"""

from __future__ import annotations

import functools

from slimgate.model import Platform

# (OCI architecture, variant or None) -> aliases
ALIASES: dict[tuple[str, str | None], frozenset[str]] = {
    ("amd64", None): frozenset({"amd64", "x86_64", "x64", "x86-64", "x86_64-linux-gnu"}),
    ("arm64", None): frozenset({"arm64", "aarch64", "arm64v8", "armv8", "aarch64-linux-gnu"}),
    ("arm", "v7"): frozenset({"armhf", "armv7", "armv7l", "arm32v7", "armv7hf"}),
    ("arm", "v6"): frozenset({"armhf", "armv6", "armv6l", "arm32v6", "armel"}),
    ("arm", "v5"): frozenset({"armel", "armv5", "armv5l", "arm32v5", "armv5tel"}),
    ("386", None): frozenset({"386", "i386", "i686", "x86", "i586"}),
    ("ppc64le", None): frozenset({"ppc64le", "ppc64el", "powerpc64le"}),
    ("s390x", None): frozenset({"s390x"}),
    ("riscv64", None): frozenset({"riscv64"}),
    ("mips64le", None): frozenset({"mips64le", "mips64el"}),
    ("loong64", None): frozenset({"loong64", "loongarch64"}),
}

KNOWN_NAMES: frozenset[str] = frozenset().union(*ALIASES.values()) | {"arm", "ppc64", "mips64"}


def aliases(platform: Platform) -> frozenset[str]:
    """Every spelling of ``platform``'s architecture (arm without variant means v7).

    The same set each time for the same platform: it keys the memos of parsed scripts,
    and a set made anew would be hashed anew for each of them."""
    return _aliases(platform.architecture, platform.variant)


@functools.lru_cache(maxsize=64)
def _aliases(arch: str, variant: str | None) -> frozenset[str]:
    if arch == "arm64":
        variant = None
    if arch == "arm" and variant is None:
        variant = "v7"
    return ALIASES.get((arch, variant), frozenset({arch})) | {arch}

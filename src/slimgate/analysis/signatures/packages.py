"""Which distribution packages are a build toolchain, per class, as data.

Names are matched with :func:`fnmatch.fnmatchcase` after version and architecture
suffixes are stripped (``gcc=4:12.2.0-3``, ``libc6-dev:amd64``, ``gcc~=13``). Order
matters: the first class whose pattern matches a package wins, so the JDK rows sit above
the generic ``*-devel`` headers row. ``triggers`` says whether keeping such a package is a
finding on its own; version-control tools only count towards the saving of a toolchain
that is already reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis import rules


@dataclass(frozen=True, slots=True)
class PackageClass:
    name: str  # "compiler", "headers", ...
    patterns: tuple[str, ...]
    rule: str
    triggers: bool = True
    ecosystem: str = "c"


PACKAGE_CLASSES: tuple[PackageClass, ...] = (
    PackageClass(
        "jdk",
        (
            "openjdk-*-jdk",
            "openjdk-*-jdk-headless",
            "default-jdk",
            "default-jdk-headless",
            "openjdk*-jdk",
            # Alpine's openjdkNN is the JDK metapackage (openjdkNN-jre-headless the runtime)
            "openjdk[0-9]",
            "openjdk[0-9][0-9]",
            "java-*-openjdk-devel",
            "java-*-openjdk-jmods",
            "temurin-*-jdk",
            "msopenjdk-*",
            "java-*-amazon-corretto-devel",
        ),
        rules.JDK_RUNTIME,
        ecosystem="java",
    ),
    PackageClass(
        "language-sdk",
        (
            "golang",
            "golang-go",
            "golang-[0-9]*",
            "go",
            "rustc",
            "rust",
            "cargo",
            "dotnet-sdk-*",
            "maven",
            "gradle",
            "ant",
            "ghc",
            "nodejs-dev",
        ),
        rules.TOOLCHAIN_INSTALLED,
    ),
    PackageClass(
        "compiler",
        (
            "gcc",
            "gcc-[0-9]*",
            "g++",
            "g++-[0-9]*",
            "gcc-c++",
            "c++",
            "clang",
            "clang-[0-9]*",
            "llvm",
            "llvm-[0-9]*",
            "gfortran",
            "gfortran-[0-9]*",
            "build-essential",
            "build-base",
            "tcc",
            "@development-tools",
            "Development Tools",
        ),
        rules.TOOLCHAIN_INSTALLED,
    ),
    PackageClass(
        "headers",
        ("*-dev", "*-devel", "libc-dev", "musl-dev", "linux-headers", "kernel-headers"),
        rules.TOOLCHAIN_INSTALLED,
    ),
    PackageClass(
        "build-tool",
        (
            "make",
            "cmake",
            "ninja",
            "ninja-build",
            "autoconf",
            "automake",
            "libtool",
            "bison",
            "flex",
            "meson",
            "re2c",
            "scons",
        ),
        rules.TOOLCHAIN_INSTALLED,
    ),
    PackageClass(
        "scm",
        ("git", "mercurial", "subversion", "bzr", "breezy", "cvs"),
        rules.TOOLCHAIN_INSTALLED,
        triggers=False,
    ),
)


# The sub-commands with which each package manager removes packages (``apt-get purge gcc``).
REMOVE_VERBS: dict[str, tuple[str, ...]] = {
    "apt-get": ("purge", "remove", "autoremove"),
    "apt": ("purge", "remove", "autoremove"),
    "apk": ("del",),
    "yum": ("remove", "erase", "autoremove"),
    "dnf": ("remove", "erase", "autoremove"),
    "microdnf": ("remove",),
}


# Metapackages and what they pull in as *automatic* dependencies: ``apt-get remove
# build-essential`` without ``--auto-remove``/``autoremove`` removes only the metapackage
# and leaves these installed (Debian's build-essential depends on gcc, g++, make,
# libc6-dev and dpkg-dev; Ubuntu's the same). apk and the rpm family remove what only a
# removed package needed, so only apt needs this table.
APT_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "build-essential": ("gcc", "g++", "make", "libc6-dev", "dpkg-dev"),
    "default-jdk": ("openjdk-17-jdk",),
    "default-jdk-headless": ("openjdk-17-jdk-headless",),
    "golang-go": ("golang-1.19-go",),
}

# nixpkgs package names (the part of a store path before the version) that are a build
# toolchain, and the class each counts as. The ``-wrapper`` derivations are what
# ``stdenv`` puts on PATH as ``cc``/``ld``. nixpkgs calls GNU make ``gnumake``.
NIX_TOOLCHAIN: dict[str, str] = {
    "gcc": "compiler",
    "gcc-wrapper": "compiler",
    "clang": "compiler",
    "clang-wrapper": "compiler",
    "binutils": "compiler",
    "binutils-wrapper": "compiler",
    "go": "language-sdk",
    "rustc": "language-sdk",
    "rustc-wrapper": "language-sdk",
    "cargo": "language-sdk",
    "dotnet-sdk": "language-sdk",
    "maven": "language-sdk",
    "gradle": "language-sdk",
    "ghc": "language-sdk",
    "openjdk": "jdk",
    "gnumake": "build-tool",
    "cmake": "build-tool",
    "ninja": "build-tool",
    "meson": "build-tool",
    "autoconf": "build-tool",
    "automake": "build-tool",
    "libtool": "build-tool",
    "git": "scm",
}

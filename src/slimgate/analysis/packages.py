"""What a RUN step leaves installed: package manager commands replayed in order.

Follows apt (``install``, ``purge``/``remove``, ``--auto-remove``, ``autoremove`` and the
``savedAptMark`` idiom: ``apt-mark auto '.*'`` then ``apt-get purge --auto-remove`` drops
everything the step installed), apk (``add --virtual .name`` / ``del .name``) and the rpm
family (yum, dnf, microdnf, tdnf, zypper). A package installed in one step and removed in a
later one is *kept*: the earlier layer still carries it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from slimgate.analysis.limits import Limits, Meter
from slimgate.analysis.shell import MEMO_SCRIPT_CHARS, Command, commands, expand, names_read
from slimgate.analysis.signatures.packages import APT_DEPENDENCIES, PACKAGE_CLASSES, PackageClass

# Options that take a value, per manager (so the value is not read as a package).
_VALUE_OPTIONS = {
    "apt": {"-o", "-t", "--target-release", "-c", "--config-file", "-a", "--host-architecture"},
    "apk": {"-t", "--virtual", "-X", "--repository", "--root", "-p", "--arch", "--keys-dir"},
    "rpm": {
        "--setopt",
        "--enablerepo",
        "--disablerepo",
        "--releasever",
        "--installroot",
        "-c",
        "--config",
        "--repo",
        "--nodocs",
    },
}
_APT = frozenset({"apt-get", "apt", "aptitude"})
_RPM = frozenset({"yum", "dnf", "microdnf", "tdnf", "zypper"})
_OTHER = frozenset({"apt-mark", "apk"})
_MANAGERS = _APT | _RPM | _OTHER
_VERSION_SUFFIX = re.compile(r"(?:[=<>~]|:[a-z0-9]+$).*$")


@dataclass(frozen=True, slots=True)
class Kept:
    """A toolchain package a step installed and did not remove."""

    package: str
    klass: PackageClass


@dataclass(slots=True)
class _Installed:
    manual: bool = True
    group: str | None = None
    implied: bool = False  # pulled in by a metapackage (APT_DEPENDENCIES), not named


def _classify(package: str) -> PackageClass | None:
    for klass in PACKAGE_CLASSES:
        if any(fnmatch.fnmatchcase(package, pattern) for pattern in klass.patterns):
            return klass
    return None


_memoised_class = functools.lru_cache(maxsize=4096)(_classify)


def _strip_version(word: str) -> str:
    """The package name of ``gcc=4:12.2.0-3``, ``libc6-dev:amd64`` or ``gcc~=13``."""
    return _VERSION_SUFFIX.sub("", word)


# Memoised for words of real length, as classify is: every image on a Debian base names the
# same hundred packages.
_unversioned = functools.lru_cache(maxsize=4096)(_strip_version)


def classify(package: str) -> PackageClass | None:
    """The toolchain class of a package name, or None for an ordinary package.

    Memoised for names of real length (Debian's longest are under 100 characters), so a
    hostile step's long words cannot fill the memo."""
    return _memoised_class(package) if len(package) <= 128 else _classify(package)


def _split_args(manager: str, args: Iterable[str], meter: Meter) -> list[str]:
    """Positional arguments (variables are already expanded, once, as the shell does);
    option values skipped. A quoted argument of several words counts against the meter's
    word limit for each."""
    positional: list[str] = []
    skip = False
    takes_value = _VALUE_OPTIONS[manager]
    for raw in args:
        if skip:
            skip = False
            continue
        if raw in takes_value:
            skip = True
            continue
        if raw.startswith("-"):
            continue
        words = raw.split()
        meter.words(len(words) - 1)  # the word itself was counted when the script was read
        for word in words:
            if word.startswith("-") or "$(" in word:
                continue
            name = _unversioned(word) if len(word) <= 128 else _strip_version(word)
            if name:  # ``=1.2`` alone names no package
                positional.append(name)
    return positional


def _virtual_name(args: tuple[str, ...]) -> str | None:
    for i, arg in enumerate(args):
        if arg in ("-t", "--virtual") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--virtual="):
            return arg.partition("=")[2]
    return None


def kept_packages(
    commands: Iterable[Command],
    variables: Mapping[str, str],
    meter: Meter | None = None,
    *,
    implied: bool = True,
) -> tuple[str, ...]:
    """Every package the commands install and leave installed, in install order; with
    ``implied=False``, only the packages the commands name (not a metapackage's
    dependencies that its removal left behind).

    Raises :class:`~slimgate.errors.TooComplex` when variables expand past the limits.
    """
    meter = meter if meter is not None else Meter()
    state: dict[str, _Installed] = {}
    scope = dict(variables)
    for command in commands:
        for name, value in command.assignments:
            scope[name] = "" if "$(" in value or "`" in value else expand(value, scope)
        program = command.program
        if len(command.argv) < 2 or program not in _MANAGERS:
            continue
        args = _expanded(command.argv[1:], scope, meter)
        if program in _APT:
            _apt(args, state, meter)
        elif program == "apt-mark":
            _apt_mark(args, state, meter)
        elif program == "apk":
            _apk(args, state, meter)
        elif program in _RPM:
            _rpm(args, state, meter)
    if implied:
        return tuple(state)
    return tuple(name for name, installed in state.items() if not installed.implied)


def _expanded(args: tuple[str, ...], scope: Mapping[str, str], meter: Meter) -> tuple[str, ...]:
    """The arguments after variable expansion and field splitting, as the shell passes
    them (``apt-get -y $package_args install $packages``: the options and the subcommand
    can come from a variable too)."""
    if "$" not in "".join(args):
        return args
    words: list[str] = []
    for arg in args:
        if "$" not in arg:
            words.append(arg)
            continue
        if "$(" in arg or "`" in arg:
            continue
        split = expand(arg, scope).split()
        meter.words(len(split) - 1)
        words.extend(split)
    return tuple(words)


def _subcommand(args: tuple[str, ...], manager: str) -> tuple[str, tuple[str, ...]]:
    """The first positional argument and the rest (option values are not positional)."""
    takes_value = _VALUE_OPTIONS[manager]
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in takes_value:
            skip = True
        elif not arg.startswith("-"):
            return arg, args[:i] + args[i + 1 :]
    return "", args


def _apt(args: tuple[str, ...], state: dict[str, _Installed], meter: Meter) -> None:
    sub, rest = _subcommand(args, "apt")
    names = _split_args("apt", rest, meter)
    autoremove = sub == "autoremove" or any(a in ("--auto-remove", "--autoremove") for a in rest)
    if sub == "install":
        for name in names:
            for dependency in APT_DEPENDENCIES.get(name, ()):
                state.setdefault(dependency, _Installed(manual=False, implied=True))
            state[name] = _Installed(manual=True)
    elif sub in ("purge", "remove", "autoremove"):  # ``autoremove NAME`` removes NAME too
        for name in names:
            state.pop(name, None)
    if autoremove:
        for name in [n for n, s in state.items() if not s.manual]:
            del state[name]


def _apt_mark(args: tuple[str, ...], state: dict[str, _Installed], meter: Meter) -> None:
    sub, rest = _subcommand(args, "apt")
    patterns = _split_args("apt", rest, meter)
    if sub not in ("auto", "manual"):
        return
    globs = [g for g in (_as_glob(p) for p in patterns) if g is not None]
    for name, installed in state.items():
        if any(fnmatch.fnmatchcase(name, glob) for glob in globs):
            installed.manual = sub == "manual"


_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.:~_-]*")
_REGEX_AS_GLOB = {"\\.": "[.]", ".*": "*", ".+": "?*", ".": "?"}
_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:~")


def _as_glob(pattern: str) -> str | None:
    """An ``apt-mark`` argument as a glob, or None when it is neither a package name nor a
    simple pattern.

    apt takes an argument that names a package as that package, and one with regular
    expression characters as a regular expression. The scripts that matter use ``'.*'``
    (the ``savedAptMark`` idiom) or names. Only the dot forms are translated; anything with
    groups, alternatives or repetition of its own is ignored rather than run, since a
    regular expression taken from an image could backtrack for hours (``(a+)+b``).
    """
    if len(pattern) > 128:
        return None
    if _PACKAGE_NAME.fullmatch(pattern):
        return pattern.replace(".", "[.]").replace("+", "[+]")  # no glob characters left
    body = pattern.removeprefix("^").removesuffix("$")
    glob: list[str] = []
    i = 0
    while i < len(body):
        two = body[i : i + 2]
        if two in _REGEX_AS_GLOB:
            glob.append(_REGEX_AS_GLOB[two])
            i += 2
        elif body[i] in _REGEX_AS_GLOB or body[i] in _LITERAL:
            glob.append(_REGEX_AS_GLOB.get(body[i], body[i]))
            i += 1
        else:
            return None
    return "".join(glob)


def _apk(args: tuple[str, ...], state: dict[str, _Installed], meter: Meter) -> None:
    sub, rest = _subcommand(args, "apk")
    names = _split_args("apk", rest, meter)
    if sub == "add":
        group = _virtual_name(rest)
        if group is not None:
            names = [n for n in names if n != group]
        for name in names:
            state[name] = _Installed(group=group)
    elif sub == "del":
        for name in names:
            state.pop(name, None)
            for member in [n for n, s in state.items() if s.group == name]:
                del state[member]


def _rpm(args: tuple[str, ...], state: dict[str, _Installed], meter: Meter) -> None:
    sub, rest = _subcommand(args, "rpm")
    if sub in ("group", "groups"):
        sub, rest = _subcommand(rest, "rpm")
        sub = "group" + sub
    names = _split_args("rpm", rest, meter)
    if sub in ("install", "in", "groupinstall"):
        if sub == "groupinstall":
            names = ["@" + "-".join(n.lower().split()) for n in rest if not n.startswith("-")]
        for name in names:
            state[name] = _Installed()
    elif sub in ("remove", "erase", "rm", "groupremove", "autoremove"):
        for name in names:
            state.pop(name, None)


def toolchain_kept(
    commands: Iterable[Command], variables: Mapping[str, str], meter: Meter | None = None
) -> tuple[Kept, ...]:
    """The kept packages of a step that belong to a toolchain class."""
    result = []
    for package in kept_packages(commands, variables, meter):
        klass = classify(package)
        if klass is not None:
            result.append(Kept(package, klass))
    return tuple(result)


# What a step keeps depends only on its script, the platform and the values of the
# variables its commands read (each is expanded once, as the shell does); a popular base's
# steps recur, with those values, in every image built on it. So a step's result is
# memoised by them while the script and the values are of bounded length, which keeps the
# memo's memory bounded.
MEMO_VALUE_CHARS = 4096


@functools.lru_cache(maxsize=4096)
def _names_read(script: str, arch: frozenset[str] | None) -> tuple[str, ...] | None:
    """The variables :func:`kept_packages` can read: in assignments, and in the words of
    the package managers' commands (the other commands' words it never expands). None
    when the step has neither: it keeps nothing, and counts no words for it."""
    read = [c for c in commands(script, arch) if c.assignments or c.program in _MANAGERS]
    return tuple(sorted(names_read(read))) if read else None


def step_kept(
    script: str,
    arch: frozenset[str] | None,
    found: tuple[Command, ...],
    variables: Mapping[str, str],
    meter: Meter,
) -> tuple[Kept, ...]:
    """:func:`toolchain_kept` of ``found``, the commands ``script`` runs on ``arch``.

    Memoised (see above). The meter counts the same words and stops at the same point as
    without the memo: the memo keeps the most words the step had counted at once, and the
    words it counted in the end."""
    if not found:
        return ()  # a comment, or a branch for another platform
    if len(script) <= MEMO_SCRIPT_CHARS:
        names = _names_read(script, arch)
        if names is None:
            return ()
        values = tuple((name, variables[name]) for name in names if name in variables)
        if sum(len(value) for _, value in values) <= MEMO_VALUE_CHARS:
            kept, most, counted = _memoised_kept(script, arch, values, meter.limits.words)
            meter.words(most)
            meter.words(counted - most)
            return kept
    return toolchain_kept(found, variables, meter)


@functools.lru_cache(maxsize=4096)
def _memoised_kept(
    script: str,
    arch: frozenset[str] | None,
    values: tuple[tuple[str, str], ...],
    words: int,
) -> tuple[tuple[Kept, ...], int, int]:
    tally = Meter(Limits(words=words))
    kept = toolchain_kept(commands(script, arch), dict(values), tally)
    return kept, tally.most_words, tally.words_counted


def clear_memo() -> None:
    """Forget every memoised step (benchmarks measure a cold analysis with it)."""
    _names_read.cache_clear()
    _memoised_kept.cache_clear()

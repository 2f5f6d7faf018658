"""Read the shell script of a RUN step into the simple commands it runs.

Not a shell: just enough of POSIX ``sh`` grammar to see the commands of the scripts that
Dockerfiles contain (``&&`` chains, ``;``, ``||``, pipes, line continuations, comments,
``set -eux``, ``$(...)``, ``{ ...; }``, subshells, ``if``/``case``/``for``/``while``), and to
skip the branches written for another architecture. A scanner splits the script at
unquoted operators (it knows quotes and nested ``$(...)``); :mod:`shlex` splits each piece
into words (both in :mod:`slimgate.analysis.shell_tokens`). Anything we cannot parse
degrades to "every branch ran", which over-reports installs rather than hiding them.

The parser and the evaluation recurse into nested constructs (and into ``sh -c`` scripts):
nesting deeper than ``nesting`` levels raises :class:`~slimgate.errors.TooComplex` rather
than exhausting Python's stack, and :func:`expand` refuses to build a word longer than its
limit (``A=xx; B=$A$A; C=$B$B...`` doubles with every assignment).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from slimgate.analysis.shell_tokens import tokens
from slimgate.analysis.signatures.architectures import KNOWN_NAMES
from slimgate.errors import TooComplex

NESTING = 64  # levels of subshells, blocks, if/case/loops, $(...) and sh -c
EXPANSION_CHARS = 4096  # one word after variable substitution (PATH is ~100)

_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "\n"})
_CASE_END = frozenset({";;", ";&", ";;&"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = re.compile(r"^\d*(?:>>?|<<?|>&|<&|&>)(.*)$")
# ``[^}]`` is bounded: unbounded, every unclosed ``${A`` would scan to the end of the word.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]{0,256}\}|\$([A-Za-z_][A-Za-z0-9_]*)")
# Programs that run the command after their options (npx/bunx run a package's binary:
# ``npx nuxt build`` is ``nuxt build``).
_WRAPPERS = frozenset(
    {"sudo", "env", "nice", "nohup", "time", "command", "exec", "eatmydata", "npx", "bunx"}
)
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "/bin/sh", "/bin/bash", "/bin/ash"})


@dataclass(frozen=True, slots=True)
class Command:
    """A simple command: its words (quotes removed) and the assignments before them."""

    argv: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...] = ()
    program: str = field(init=False)  # the command name without its directory (./mvnw -> mvnw)

    def __post_init__(self) -> None:
        object.__setattr__(self, "program", self.argv[0].rsplit("/", 1)[-1] if self.argv else "")


# --- parsing -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    kind: str  # "simple", "if", "case", "block"
    words: list[str]
    parts: list[tuple[list[str], list[_Node]]]  # if: (cond-less, body); case: (patterns, body)
    conds: list[list[_Node]]


class _Parser:
    def __init__(self, toks: list[tuple[bool, str]], nesting: int) -> None:
        self.toks = toks
        self.pos = 0
        self.depth = nesting  # levels of nesting still allowed

    def peek(self) -> tuple[bool, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def accept_word(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and not tok[0] and tok[1] == word:
            self.pos += 1
            return True
        return False

    def skip_separators(self) -> None:
        while (tok := self.peek()) is not None and tok[0] and tok[1] in _SEPARATORS:
            self.pos += 1

    def parse_list(self, stop: frozenset[str]) -> list[_Node]:
        if self.depth <= 0:
            raise TooComplex("shell constructs nested too deeply")
        self.depth -= 1
        try:
            return self._parse_list(stop)
        finally:
            self.depth += 1

    def _parse_list(self, stop: frozenset[str]) -> list[_Node]:
        nodes: list[_Node] = []
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None or tok[1] in stop:
                return nodes
            before = self.pos
            node = self.parse_command()
            if node is not None:
                nodes.append(node)
            if self.pos == before:  # a stray operator: consume it so we always progress
                self.pos += 1

    def parse_command(self) -> _Node | None:
        tok = self.peek()
        assert tok is not None
        is_op, text = tok
        if is_op:
            if text == "(":
                self.pos += 1
                body = self.parse_list(frozenset({")"}))
                self.pos += 1
                return _Node("block", [], [([], body)], [])
            return None
        if text == "!":
            while (tok := self.peek()) is not None and tok == (False, "!"):
                self.pos += 1  # ``! ! cmd``: one loop, not one call per ``!``
            return self.parse_command() if self.peek() is not None else None
        if text == "if":
            return self.parse_if()
        if text == "case":
            return self.parse_case()
        if text in ("for", "while", "until"):
            return self.parse_loop(text)
        if text == "{":
            self.pos += 1
            body = self.parse_list(frozenset({"}"}))
            self.accept_word("}")
            return _Node("block", [], [([], body)], [])
        words: list[str] = []
        while (tok := self.peek()) is not None and not tok[0]:
            words.append(tok[1])
            self.pos += 1
        return _Node("simple", words, [], [])

    def parse_if(self) -> _Node:
        self.pos += 1  # "if"
        conds: list[list[_Node]] = []
        parts: list[tuple[list[str], list[_Node]]] = []
        while True:
            conds.append(self.parse_list(frozenset({"then"})))
            self.accept_word("then")
            parts.append(([], self.parse_list(frozenset({"elif", "else", "fi"}))))
            if self.accept_word("elif"):
                continue
            if self.accept_word("else"):
                parts.append((["else"], self.parse_list(frozenset({"fi"}))))
            self.accept_word("fi")
            return _Node("if", [], parts, conds)

    def parse_case(self) -> _Node:
        self.pos += 1  # "case"
        subject = self.peek()
        self.pos += 1
        self.accept_word("in")
        parts: list[tuple[list[str], list[_Node]]] = []
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None or self.accept_word("esac"):
                break
            if tok == (True, "("):
                self.pos += 1
            patterns: list[str] = []
            while (tok := self.peek()) is not None and tok != (True, ")"):
                if not tok[0]:
                    patterns.append(tok[1])
                self.pos += 1
            self.pos += 1  # ")"
            body = self.parse_list(_CASE_END | {"esac"})
            parts.append((patterns, body))
            if (tok := self.peek()) is not None and tok[0] and tok[1] in _CASE_END:
                self.pos += 1
        return _Node("case", [subject[1] if subject else ""], parts, [])

    def parse_loop(self, keyword: str) -> _Node:
        self.pos += 1
        cond: list[_Node] = []
        if keyword == "for":
            while (tok := self.peek()) is not None and not (tok[0] or tok[1] == "do"):
                self.pos += 1
        else:
            cond = self.parse_list(frozenset({"do"}))
        self.skip_separators()
        self.accept_word("do")
        body = self.parse_list(frozenset({"done"}))
        self.accept_word("done")
        return _Node("block", [], [([], body)], [cond])


# --- evaluation --------------------------------------------------------------------------


def _arch_test(cond: list[_Node], arch: frozenset[str]) -> bool | None:
    """True/False when ``cond`` compares a variable with an architecture name, else None."""
    if not cond or cond[-1].kind != "simple":
        return None
    words = [w for w in cond[-1].words if w not in ("[", "]", "[[", "]]", "test")]
    for op in ("=", "==", "!="):
        if op in words:
            i = words.index(op)
            if i == 0 or i + 1 >= len(words):
                return None
            left, right = words[i - 1], words[i + 1]
            literal = right if "$" in left else left if "$" in right else None
            if literal is None or literal not in KNOWN_NAMES:
                return None
            return (literal in arch) != (op == "!=")
    return None


def _arch_pattern(pattern: str) -> bool:
    """Short enough to be about architectures: longer patterns are never matched with
    fnmatch, whose cache of compiled patterns would otherwise keep them."""
    return len(pattern) <= 64


def _is_arch_case(patterns: list[list[str]]) -> bool:
    return any(
        p not in ("*", "?*")
        and (p in KNOWN_NAMES or (_arch_pattern(p) and fnmatch.filter(KNOWN_NAMES, p)))
        for group in patterns
        for p in group
    )


def _simple(words: list[str]) -> Command | None:
    assignments: list[tuple[str, str]] = []
    argv: list[str] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        redirect = _REDIRECT.match(word)
        if redirect is not None:
            skip_next = not redirect.group(1)
            continue
        if not argv and _ASSIGNMENT.match(word):
            name, _, value = word.partition("=")
            assignments.append((name, value))
            continue
        argv.append(word)
    while argv and argv[0] in _WRAPPERS:
        argv.pop(0)
        while argv and (argv[0].startswith("-") or _ASSIGNMENT.match(argv[0])):
            word = argv.pop(0)
            if _ASSIGNMENT.match(word):
                name, _, value = word.partition("=")
                assignments.append((name, value))
    if argv and argv[0] == "export":
        assignments.extend((w.partition("=")[0], w.partition("=")[2]) for w in argv[1:] if "=" in w)
    if not argv and not assignments:
        return None
    return Command(tuple(argv), tuple(assignments))


def _is_c_flag(word: str) -> bool:
    return word.startswith("-") and word.endswith("c")


def _evaluate(
    nodes: list[_Node], arch: frozenset[str] | None, out: list[Command], left: int
) -> None:
    """Append the commands of ``nodes`` to ``out``; ``left`` levels of nesting remain."""
    if left <= 0:
        raise TooComplex("shell constructs nested too deeply")
    inner = left - 1
    for node in nodes:
        if node.kind == "simple":
            command = _simple(node.words)
            if command is None:
                continue
            argv = command.argv
            if argv[:1] and argv[0] in _SHELLS and len(argv) > 2 and _is_c_flag(argv[1]):
                out.extend(commands(argv[2], arch, inner))
                continue
            out.append(command)
        elif node.kind == "if":
            for i, (label, body) in enumerate(node.parts):
                if label == ["else"]:
                    _evaluate(body, arch, out, inner)
                    break
                cond = node.conds[i]
                _evaluate(cond, arch, out, inner)
                verdict = None if arch is None else _arch_test(cond, arch)
                if verdict is False:
                    continue
                _evaluate(body, arch, out, inner)
                if verdict is True:
                    break
        elif node.kind == "case":
            if arch is not None and _is_arch_case([p for p, _ in node.parts]):
                for patterns, body in node.parts:
                    if any(
                        p in arch or (_arch_pattern(p) and fnmatch.filter(arch, p))
                        for p in patterns
                    ):
                        _evaluate(body, arch, out, inner)
                        break
            else:
                for _, body in node.parts:
                    _evaluate(body, arch, out, inner)
        else:
            for cond in node.conds:
                _evaluate(cond, arch, out, inner)
            for _, body in node.parts:
                _evaluate(body, arch, out, inner)


# Scripts up to this length are memoised (the official images' longest step is 4.8 kB);
# longer ones are parsed every time, so the memo's memory stays bounded.
MEMO_SCRIPT_CHARS = 16 * 1024


def _commands(script: str, arch: frozenset[str] | None, nesting: int) -> tuple[Command, ...]:
    tree = _Parser(tokens(script, nesting), nesting).parse_list(frozenset())
    out: list[Command] = []
    _evaluate(tree, arch, out, nesting)
    return tuple(out)


_memoised = lru_cache(maxsize=4096)(_commands)


def commands(
    script: str, arch: frozenset[str] | None = None, nesting: int = NESTING
) -> tuple[Command, ...]:
    """The simple commands ``script`` runs on ``arch`` (every branch when arch is None).

    Raises :class:`~slimgate.errors.TooComplex` when its constructs nest deeper than
    ``nesting`` levels. Memoised up to :data:`MEMO_SCRIPT_CHARS`: the steps of a popular
    base image recur in every image built on it, and the result is an immutable tuple of
    frozen commands.
    """
    if len(script) > MEMO_SCRIPT_CHARS:
        return _commands(script, arch, nesting)
    return _memoised(script, arch, nesting)


def clear_memo() -> None:
    """Forget every memoised script (benchmarks measure a cold parse with it)."""
    _memoised.cache_clear()


def names_read(found: Iterable[Command]) -> frozenset[str]:
    """The variable names that :func:`expand` would look up in the words and assignment
    values of ``found``."""
    names: set[str] = set()
    for command in found:
        # One search per command: "}" between the words ends a "${NAME" left open in one
        # word before it reaches the next (so a name is never hidden, only at most one
        # more found).
        text = "}".join((*command.argv, *(value for _, value in command.assignments)))
        if "$" in text:
            names.update(a or b for a, b in _VARIABLE.findall(text))
    return frozenset(names)


def expand(word: str, variables: Mapping[str, str], limit: int = EXPANSION_CHARS) -> str:
    """Substitute ``$NAME`` and ``${NAME...}`` from ``variables``; unknown names are empty.

    Raises :class:`~slimgate.errors.TooComplex` rather than build a word longer than
    ``limit`` characters (or than ``word`` itself); the length is added up before the word
    is.
    """
    if "$" not in word:
        return word
    limit = max(limit, len(word))
    parts: list[str] = []
    size = 0
    end = 0
    for match in _VARIABLE.finditer(word):
        value = variables.get(match.group(1) or match.group(2), "")
        size += match.start() - end + len(value)
        if size > limit:
            raise TooComplex(f"a variable expands to more than {limit:,} characters")
        parts.append(word[end : match.start()])
        parts.append(value)
        end = match.end()
    if size + len(word) - end > limit:
        raise TooComplex(f"a variable expands to more than {limit:,} characters")
    parts.append(word[end:])
    return "".join(parts)

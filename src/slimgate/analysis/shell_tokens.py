"""Split a shell script into words and operators, minding quotes and ``$(...)``.

A scanner jumps between the characters that matter (quotes, ``$(``, backslashes,
comments, operators) and splits the script at unquoted ``&&``, ``||``, ``;``, ``|``,
``&``, parentheses and newlines; :mod:`shlex` then splits each piece into words (plain
pieces without quotes are split on whitespace, which is what shlex would return).
Used by :mod:`slimgate.analysis.shell`.

Every pass is linear in the script's length except the nesting of quotes inside ``$(...)``
inside quotes, which is followed by recursion: deeper than ``nesting`` levels is
:class:`~slimgate.errors.TooComplex`, never a ``RecursionError``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from slimgate.errors import TooComplex

_OPERATORS = (";;&", ";;", ";&", "&&", "||", ";", "|", "&", "(", ")", "\n")


def _skip_quoted(text: str, i: int, depth: int) -> int:
    """Index just past the quoted string or ``$(...)`` starting at ``text[i]``; ``depth``
    more levels of nesting are allowed inside it."""
    if depth < 0:
        raise TooComplex("quotes and $(...) nested too deeply")
    quote = text[i]
    if quote == "'":
        end = text.find("'", i + 1)
        return len(text) if end < 0 else end + 1
    if quote == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            if text[j] == "\\":
                j += 2
            elif text.startswith("$(", j):
                j = _skip_quoted(text, j, depth - 1)
            else:
                j += 1
        return j + 1
    # "$(": find the matching parenthesis, minding quotes and nesting
    parens, j = 0, i + 1
    while j < len(text):
        char = text[j]
        if char in "'\"":
            j = _skip_quoted(text, j, depth - 1)
            continue
        if char == "\\":
            j += 2
            continue
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
            if parens == 0:
                return j + 1
        j += 1
    return j


_SPECIAL = re.compile(r"[\'\"`\\#<>&;|()\n$]")


def _scan(text: str, nesting: int) -> Iterator[tuple[bool, str]]:
    """Yield ``(is_operator, text)`` pieces: word runs and unquoted operators."""
    i, start, n = 0, 0, len(text)
    while True:
        match = _SPECIAL.search(text, i)
        if match is None:
            break
        i = match.start()
        char = text[i]
        if char == "$":
            if text.startswith("$(", i):
                i = _skip_quoted(text, i, nesting)
            else:
                i += 1
            continue
        if char in "'\"":
            i = _skip_quoted(text, i, nesting)
            continue
        if char == "`":
            end = text.find("`", i + 1)
            i = n if end < 0 else end + 1
            continue
        if char == "\\":
            i += 2
            continue
        if char == "#":
            if i == start or text[i - 1] in " \t":
                if text[start:i].strip():
                    yield False, text[start:i]
                end = text.find("\n", i)
                i = start = n if end < 0 else end
            else:
                i += 1
            continue
        if char in "<>":  # redirections stay with the words; keep >& and &> whole
            i += 2 if i + 1 < n and text[i + 1] in "&>" else 1
            continue
        if char == "&" and i + 1 < n and text[i + 1] == ">":
            i += 2
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                if text[start:i].strip():
                    yield False, text[start:i]
                yield True, op
                i = start = i + len(op)
                break
        else:  # pragma: no cover - every special character is handled above
            i += 1
    if text[start:].strip():
        yield False, text[start:]


def _words(piece: str) -> list[str]:
    if not any(char in piece for char in "'\"\\"):
        return piece.split()  # what shlex would return, without its per-character loop
    try:
        return shlex.split(piece, posix=True)
    except ValueError:  # an unbalanced quote: keep going with a rough split
        return piece.replace('"', " ").replace("'", " ").split()


def tokens(script: str, nesting: int = 64) -> list[tuple[bool, str]]:
    """The script as ``(is_operator, token)`` pairs, words already unquoted.

    Raises :class:`~slimgate.errors.TooComplex` when quotes and ``$(...)`` nest deeper
    than ``nesting`` levels.
    """
    text = re.sub(r"\\\r?\n", " ", script)
    result: list[tuple[bool, str]] = []
    for is_op, piece in _scan(text, nesting):
        if is_op:
            result.append((True, piece))
        else:
            result.extend((False, word) for word in _words(piece))
    return result

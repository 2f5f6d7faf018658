"""CMD and ENTRYPOINT: exec form or shell form, what they start, and how to write them.

Dockerfile reference, "CMD" and "ENTRYPOINT": the exec form is a JSON array; anything
else is the shell form, run as ``/bin/sh -c``. A runtime image without a shell (distroless,
scratch) needs the exec form, so a rewritten start command is always written that way.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    words: tuple[str, ...]
    shell_form: bool  # written in shell form
    raw: str

    @property
    def program(self) -> str:
        return self.words[0] if self.words else ""


def parse(value: str) -> Command:
    """A CMD/ENTRYPOINT value; a shell form that ``shlex`` cannot split keeps its text."""
    text = value.strip()
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and all(isinstance(word, str) for word in loaded):
            return Command(tuple(loaded), shell_form=False, raw=value)
    try:
        words = tuple(shlex.split(text))
    except ValueError:
        words = (text,)
    return Command(words, shell_form=True, raw=value)


def parse_start(value: str) -> Command:
    """``--start``: a JSON array or a command line."""
    return parse(value)


def exec_form(words: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(words))


def resolve(path: str, workdir: str) -> str:
    """``path`` as an absolute path inside the image, relative paths against ``workdir``."""
    if path.startswith("/"):
        return posixpath.normpath(path)
    return posixpath.normpath(posixpath.join(workdir or "/", path))


def uses_shell_features(command: Command) -> bool:
    """A shell-form command that needs a shell (variables, operators), not only words."""
    return command.shell_form and any(
        marker in command.raw for marker in ("$", "&&", "||", "|", ";", ">")
    )

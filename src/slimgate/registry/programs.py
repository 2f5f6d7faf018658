"""Running a credential program: a kubelet credential-provider plugin or a Docker helper.

A program is run by its absolute path, never through a shell, with the arguments and the
environment it was configured with and nothing inherited. Its request goes to stdin; its
stdout is read up to :data:`MAX_OUTPUT` bytes and handed back to the caller, never logged;
its stderr goes to ``/dev/null`` unread, because plugins print what they see there (image
names, cloud errors) and nothing a program prints is fit for a log or an admission warning.

A run that outlives its timeout is killed with its whole process group (it is started in a
session of its own), so a plugin that forks cannot leave a child behind. Every failure is a
:class:`ProgramFailed` whose reason says what happened in words of our own: the exit status,
the signal, the time limit, the size limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_OUTPUT = 1024 * 1024  # bytes of stdout read from one run


class ProgramFailed(Exception):
    """A credential program that did not answer; ``reason`` is safe to show."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished run: its exit status and what it printed on stdout (maybe a secret)."""

    status: int
    stdout: bytes


def run_program(
    path: str,
    args: Sequence[str],
    stdin: bytes,
    env: Mapping[str, str],
    timeout: float,
) -> Completed:
    """Run ``path`` with ``args``, write ``stdin``, and wait at most ``timeout`` seconds."""
    if timeout <= 0:
        raise ProgramFailed("not run: no time was left", timed_out=True)
    try:
        process = subprocess.Popen(
            [path, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
            shell=False,
        )
    except OSError as exc:
        raise ProgramFailed(f"cannot be started: {exc.strerror or exc}") from exc
    chunks: list[bytes] = []
    overflow = threading.Event()

    def read() -> None:
        # the reader owns the pipe and closes it when it ends: closed from the caller while
        # this thread still reads (a timeout, a child keeping it open), the next read raised
        assert process.stdout is not None
        total = 0
        with process.stdout:
            while chunk := process.stdout.read(65536):
                total += len(chunk)
                if total > MAX_OUTPUT:
                    overflow.set()
                    _kill(process)
                    return
                chunks.append(chunk)

    reader = threading.Thread(target=read, name="credential-program-stdout", daemon=True)
    reader.start()
    ends = time.monotonic() + timeout
    try:
        assert process.stdin is not None
        try:
            process.stdin.write(stdin)
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it exited without reading its request; the status says how
        try:
            status = process.wait(max(ends - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            _kill(process)
            raise ProgramFailed(
                f"did not finish within {timeout:.1f} s and was killed", timed_out=True
            ) from None
        reader.join(max(ends - time.monotonic(), 0.1))
        if reader.is_alive():  # a child it left behind holds stdout open (and its group
            _kill(process)  # alive, so the group id cannot have been given to another)
            raise ProgramFailed(
                f"its output did not end within {timeout:.1f} s; killed", timed_out=True
            )
    finally:
        if process.returncode is None:
            _kill(process)
            process.wait()
    if overflow.is_set():
        raise ProgramFailed(f"printed more than {MAX_OUTPUT} bytes")
    if status < 0:
        raise ProgramFailed(f"was killed by signal {-status}")
    return Completed(status, b"".join(chunks))


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the program's whole process group (it leads a session of its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)

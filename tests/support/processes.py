"""Starting and ending the servers tests run as child processes: output to a log file, a
readiness poll, and an end that is polite first, then sure."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def start(
    command: Sequence[str],
    log: Path,
    ready: Callable[[], bool],
    *,
    name: str,
    timeout: float,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Run ``command`` (``popen``: more ``subprocess.Popen`` arguments) with its output in
    ``log``, and poll ``ready`` until it says yes. When the process exits first or is not
    ready within ``timeout`` seconds, it is stopped and a RuntimeError shows its log."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, **popen
        )
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                text = log.read_text(errors="replace")
                raise RuntimeError(f"{name} was not ready within {timeout} s:\n{text}")
            time.sleep(0.05)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    """SIGTERM ``process`` (if it still runs), SIGKILL it after ``grace`` seconds; its exit
    code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode

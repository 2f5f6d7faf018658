"""Ending the servers tests start: politely first, then for sure."""

from __future__ import annotations

import subprocess


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

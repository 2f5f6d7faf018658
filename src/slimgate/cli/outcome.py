"""Exit codes and error lines shared by ``check`` and ``lint``.

0: every image allowed (warnings included); 1: any image denied; 2: any image could not be
evaluated, because it could not be read or was too complex to analyse (its decision still
follows ``onRegistryError``), or the usage was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from slimgate.evaluation import ImageResult
from slimgate.policy.decision import Verdict

OK = 0
DENIED = 1
ERROR = 2


def exit_code(results: Sequence[ImageResult]) -> int:
    if any(result.errors for result in results):
        return ERROR
    if any(result.decision.verdict is Verdict.DENY for result in results):
        return DENIED
    return OK


def report_errors(results: Sequence[ImageResult], prog: str, stream: TextIO) -> None:
    """One line on ``stream`` per image (and platform) that could not be evaluated."""
    for result in results:
        for each in result.per_platform or (result,):
            if each.unevaluated is not None:
                print(f"{prog}: {each.image} ({each.platform}): {each.unevaluated}", file=stream)

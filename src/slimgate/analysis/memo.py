"""A bounded memo of analyses, keyed by what an analysis depends on.

An analysis is a pure function of the image's manifest and config (named by their digests)
and of the knowledge it was run with, so one result serves every pod, workload and
namespace that runs the same image. The webhook, the operator and the audit all go through
the Evaluator, and this memo is what makes their warm path cost a dictionary lookup instead
of a shell-parsing pass over the history.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from slimgate.analysis.findings import Analysis


class AnalysisMemo:
    """A thread-safe LRU of analyses; ``max_entries`` bounds its memory."""

    def __init__(self, max_entries: int = 8192) -> None:
        self._max = max_entries
        self._entries: OrderedDict[Hashable, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Analysis]) -> Analysis:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        # Computed outside the lock: two threads may both compute a new key, and both
        # results are equal, so the second write is harmless.
        analysis = compute()
        with self._lock:
            self._entries[key] = analysis
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return analysis

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

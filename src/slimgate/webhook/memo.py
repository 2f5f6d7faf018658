"""A short-lived memo of decisions, so a burst of identical pods is not evaluated again.

A Deployment rollout or a busy CronJob sends the same images with the same subject many
times a second. The Evaluator memoises analyses by digest (``slimgate.analysis.memo``), so
this memo no longer saves an analysis; it still saves, per image, the registry client's
cache lookups (tag -> digest, manifest and config by digest, decoded again), the policy
decision and the hand-off to a thread: with every image memoised a review is answered on
the event loop (``Reviewer.begin``). Measured in-process on a 3-image Pod review, about 250
to 400 µs of CPU per review (of 700 to 1,000 µs without it). A review that waited for a
thread looks the memo up again before it evaluates, so once the first review of a cold
burst is answered the others are not evaluated again (the registry client's single-flight
already makes the concurrent ones share one set of requests).

It keeps a successful result for ``ttl`` seconds (well below the registry's tag TTL) keyed
by everything the decision depends on: image, platforms, namespace and labels (what the
policy's modes and exemptions match), and whose credentials the pod pulls with (its
``PullAccess``). Not the workload's or the pod's name: a result names neither, and keying by
them made every bare pod and every Job's pod miss.
The part that depends on who runs the image is computed once per review
(:func:`subject_key`), with the labels folded into one SHA-256 digest: a Pod can carry
megabytes of labels, and sorting and hashing them again for each of its images made one
review cost seconds.
Failures are never kept (the registry client has its own negative cache), and each
configuration generation has its own memo.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from slimgate.evaluation import ImageResult
from slimgate.kube.workloads import PullAccess
from slimgate.model import Platform, Subject

Key = tuple[Hashable, ...]


def subject_key(subject: Subject, platforms: Sequence[Platform], access: PullAccess) -> Key:
    """What a decision depends on besides the image; compute it once per review."""
    labels = json.dumps(sorted(subject.labels.items()), separators=(",", ":"))
    digest = hashlib.sha256(labels.encode()).hexdigest()
    return (tuple(platforms), subject.namespace, digest, access)


def memo_key(image: str, subject: Key) -> Key:
    """The key of ``image`` run by the subject whose :func:`subject_key` is ``subject``."""
    return (image, *subject)


class DecisionMemo:
    """A bounded, thread-safe LRU of results with a time to live."""

    def __init__(
        self,
        ttl: float = 5.0,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[float, ImageResult]] = OrderedDict()

    def get(self, key: Key) -> ImageResult | None:
        if self._ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Key, result: ImageResult) -> None:
        if self._ttl <= 0 or result.error is not None:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

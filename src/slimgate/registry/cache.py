"""The client's caches: content by digest, and short-lived answers by key.

Manifests and configs are content-addressed and therefore immutable: :class:`ContentCache`
keeps them without expiry, bounded by total bytes, evicting the least recently used.
:class:`TTLCache` holds what can change (tag -> digest, failures) for a few seconds, with
an injected clock so tests can move time. Both are safe to share between threads.

The client keys tag answers by credential, so a tag resolved with one pod's pull secret is
not resolved for a caller without it. Content by digest is shared: whoever already knows a
digest may have its manifest judged from the cache. That is acceptable because slimgate only
reads metadata to judge an image; pulling it still needs the kubelet's own credentials.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Content:
    media_type: str
    body: bytes


class ContentCache:
    """Digest -> content, LRU, bounded by the sum of body sizes."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._items: OrderedDict[str, Content] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> Content | None:
        with self._lock:
            item = self._items.get(digest)
            if item is not None:
                self._items.move_to_end(digest)
            return item

    def put(self, digest: str, content: Content) -> None:
        size = len(content.body)
        if size > self._max:
            return
        with self._lock:
            old = self._items.pop(digest, None)
            if old is not None:
                self._size -= len(old.body)
            self._items[digest] = content
            self._size += size
            while self._size > self._max:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted.body)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._items)


class TTLCache(Generic[V]):
    """Key -> value for ``ttl`` seconds of the injected clock, at most ``max_entries``."""

    def __init__(self, ttl: float, clock: Callable[[], float], max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if self._clock() >= expires:
                del self._items[key]
                return None
            return value

    def put(self, key: Hashable, value: V, ttl: float | None = None) -> None:
        lifetime = self._ttl if ttl is None else ttl
        if lifetime <= 0:
            return
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self._clock() + lifetime, value)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

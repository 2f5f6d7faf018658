"""The digest-keyed content cache and the TTL cache."""

from __future__ import annotations

from slimgate.registry.cache import Content, ContentCache, TTLCache
from tests.support.fixtures import ManualClock


def test_content_cache_is_bounded_by_bytes_and_evicts_least_recently_used() -> None:
    cache = ContentCache(max_bytes=10)
    cache.put("a", Content("t", b"1234"))
    cache.put("b", Content("t", b"1234"))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", Content("t", b"1234"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert cache.size == 8


def test_content_larger_than_the_cache_is_not_stored() -> None:
    cache = ContentCache(max_bytes=3)
    cache.put("a", Content("t", b"1234"))
    assert cache.get("a") is None
    assert len(cache) == 0


def test_ttl_cache_forgets_after_its_lifetime() -> None:
    clock = ManualClock()
    cache: TTLCache[str] = TTLCache(ttl=60, clock=clock)
    cache.put("k", "v")
    clock.advance(59.9)
    assert cache.get("k") == "v"
    clock.advance(0.1)
    assert cache.get("k") is None


def test_ttl_cache_honours_a_per_entry_ttl_and_ignores_zero() -> None:
    clock = ManualClock()
    cache: TTLCache[str] = TTLCache(ttl=60, clock=clock)
    cache.put("short", "v", ttl=1)
    cache.put("never", "v", ttl=0)
    assert cache.get("never") is None
    clock.advance(1)
    assert cache.get("short") is None


def test_ttl_cache_is_bounded_in_entries() -> None:
    cache: TTLCache[int] = TTLCache(ttl=60, clock=ManualClock(), max_entries=2)
    for i in range(3):
        cache.put(i, i)
    assert cache.get(0) is None
    assert (cache.get(1), cache.get(2)) == (1, 2)

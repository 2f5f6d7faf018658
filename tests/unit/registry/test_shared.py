"""The shared cache's rules, over a dict store at our own seam (the real store is tested
with redis-server in tests/integration/registry/test_shared_cache.py)."""

from __future__ import annotations

import hashlib
import time
from typing import cast

import pytest
import redis

from slimgate.errors import ConfigError, RateLimited
from slimgate.registry.cache import Content
from slimgate.registry.counters import Counters
from slimgate.registry.limits import Deadline
from slimgate.registry.options import SharedCacheOptions
from slimgate.registry.pauses import Pauses, header_count
from slimgate.registry.redis_store import RedisStore
from slimgate.registry.shared import SharedCache
from tests.support.fixtures import ManualClock
from tests.support.registry_server import free_port

BODY = b'{"schemaVersion":2}'
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()


class DictStore:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}
        self.expiry: dict[str, float | None] = {}

    def get(self, key: str) -> bytes | None:
        return self.items.get(key)

    def set(self, key: str, value: bytes, seconds: float | None) -> None:
        self.items[key] = value
        self.expiry[key] = seconds

    def claim(self, key: str, seconds: float) -> bool:
        if key in self.items:
            return False
        self.set(key, b"1", seconds)
        return True

    def delete(self, key: str) -> None:
        self.items.pop(key, None)

    def close(self) -> None:
        pass


def cache(store: DictStore, counters: Counters, wall: ManualClock | None = None) -> SharedCache:
    return SharedCache(
        store,
        b"secret",
        counters,
        wait_seconds=0.2,
        wall=wall or ManualClock(),
        sleep=lambda s: None,
    )


def test_content_is_verified_on_every_read_and_a_forgery_is_deleted() -> None:
    store, counters = DictStore(), Counters()
    shared = cache(store, counters)
    shared.put_content(DIGEST, Content("application/vnd.oci.image.manifest.v1+json", BODY))
    assert store.expiry[f"blob:{DIGEST}"] is None  # content-addressed: no expiry
    assert shared.content(DIGEST) == Content("application/vnd.oci.image.manifest.v1+json", BODY)
    store.items[f"blob:{DIGEST}"] = b"application/json\n" + b'{"schemaVersion":3}'
    assert shared.content(DIGEST) is None
    assert f"blob:{DIGEST}" not in store.items
    assert counters.shared_events("forged") == 1


@pytest.mark.parametrize("garbage", [b"no newline", b"\xff\xfe\n" + BODY])
def test_garbage_content_is_refused(garbage: bytes) -> None:
    store, counters = DictStore(), Counters()
    store.items[f"blob:{DIGEST}"] = garbage
    assert cache(store, counters).content(DIGEST) is None
    assert counters.shared_events("forged") == 1


def test_tag_keys_depend_on_the_secret_and_every_part() -> None:
    counters = Counters()
    one = cache(DictStore(), counters)
    other = SharedCache(DictStore(), b"another install", counters)
    key = one.keyed("tag", "registry.example", "team/app", "1.0", "login-a")
    assert key.startswith("tag:")
    assert "team/app" not in key
    assert key != other.keyed("tag", "registry.example", "team/app", "1.0", "login-a")
    assert key != one.keyed("tag", "registry.example", "team/app", "1.0", "login-b")
    assert key != one.keyed("tag", "registry.example", "team/app1", ".0", "login-a")


def test_a_tag_has_its_age_and_a_bad_entry_is_deleted() -> None:
    store, counters, wall = DictStore(), Counters(), ManualClock()
    shared = cache(store, counters, wall)
    key = shared.keyed("tag", "r", "a", "1", "anonymous")
    shared.put_tag(key, DIGEST, 90)
    assert store.expiry[key] == 90
    wall.advance(12)
    found = shared.tag(key)
    assert found is not None
    assert (found.digest, found.age) == (DIGEST, 12)
    store.items[key] = b'{"digest": "sha256:not-hex", "at": 1}'
    assert shared.tag(key) is None
    assert key not in store.items


def test_a_claimed_fetch_is_waited_for_then_done_here_when_it_does_not_come() -> None:
    store, counters = DictStore(), Counters()
    shared = cache(store, counters)
    store.claim("lock:tag:x", 5)  # another replica is fetching
    fetched: list[int] = []

    def fetch() -> int:
        fetched.append(7)
        return 7

    assert shared.once("tag:x", lambda: None, fetch, Deadline(4)) == 7
    assert fetched == [7]
    assert counters.shared_events("wait-expired") == 1
    answers = iter([None, 5])
    assert shared.once("tag:x", lambda: next(answers), lambda: 0, Deadline(4)) == 5


def test_the_leader_releases_its_claim_even_when_the_fetch_fails() -> None:
    store = DictStore()
    shared = cache(store, Counters())

    def fail() -> int:
        raise RateLimited("r: 429", registry="r")

    with pytest.raises(RateLimited):
        shared.once("tag:y", lambda: None, fail, Deadline(4))
    assert "lock:tag:y" not in store.items


def test_a_pause_is_shared_and_rate_limit_headers_are_read() -> None:
    store, counters, wall = DictStore(), Counters(), ManualClock()
    one = Pauses(counters, cache(store, counters, wall), ManualClock())
    other = Pauses(counters, cache(store, counters, wall), ManualClock())
    one.pause("registry-1.docker.io", 30)
    with pytest.raises(RateLimited, match="paused for 30 s more"):
        other.check("registry-1.docker.io", "docker.io")
    other.check("ghcr.io", "ghcr.io")
    assert other.holding_back("registry-1.docker.io") == "is rate limited, paused for 30 s more"
    one.answered("ghcr.io", {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "5;w=21600"})
    assert counters.rate_limits["ghcr.io"] == (100, 5)
    assert one.holding_back("ghcr.io") == "has 5 of 100 requests left in its rate limit"
    one.answered("ghcr.io", {"ratelimit-limit": "100", "ratelimit-remaining": "6"})
    assert one.holding_back("ghcr.io") is None


@pytest.mark.parametrize(
    ("value", "count"), [("100;w=21600", 100), ("0", 0), ("", None), (None, None), ("x;w=1", None)]
)
def test_header_counts(value: str | None, count: int | None) -> None:
    assert header_count(value) == count


def test_a_store_nobody_answers_costs_one_failure_then_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counters = Counters()
    options = SharedCacheOptions(
        url=f"redis://127.0.0.1:{free_port()}/0", secret_file="/unused", retry_seconds=60
    )
    store = RedisStore.connect(options, counters)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="slimgate.registry.shared"):
        for _ in range(100):
            assert store.get("blob:x") is None
            assert store.claim("lock:x", 1) is True  # nobody can say no: fetch here
            store.set("blob:x", b"v", None)
    assert time.monotonic() - started < 1.0
    assert counters.shared_events("error") == 1
    assert counters.shared_events("down") == 1
    assert len(caplog.records) == 1
    assert not store.up
    store.close()


def test_a_result_written_just_before_the_claim_is_released_is_used() -> None:
    store = DictStore()
    shared = cache(store, Counters())
    store.claim("lock:tag:z", 5)
    looks = iter([None, 9])  # the other replica writes between this look and the next

    def read() -> int | None:
        found = next(looks)
        if found is None:
            store.delete("lock:tag:z")  # ... and releases its claim
        return found

    def fetch() -> int:
        raise AssertionError("fetched although the other replica's result was there")

    assert shared.once("tag:z", read, fetch, Deadline(4)) == 9


def test_a_result_written_just_before_the_claim_is_won_is_used() -> None:
    store = DictStore()
    shared = cache(store, Counters())

    def fetch() -> int:
        raise AssertionError("fetched although another replica's result was there")

    assert shared.once("tag:w", lambda: 3, fetch, Deadline(4)) == 3
    assert "lock:tag:w" not in store.items


class RefusingClient:
    """A client whose every command fails with ``message`` (as a server's error could)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def get(self, key: str) -> bytes:
        raise redis.ResponseError(self.message)

    def close(self) -> None:
        pass


def test_a_password_in_a_store_error_is_kept_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "correct-horse-battery"
    client = RefusingClient(f"ERR unknown argument {password!r} near AUTH")
    store = RedisStore(
        cast(redis.Redis, client),
        prefix="slimgate:",
        retry_seconds=60,
        observer=Counters(),
        where="store:6379",
        password=password,
    )
    with caplog.at_level("WARNING", logger="slimgate.registry.shared"):
        assert store.get("blob:x") is None
    (record,) = caplog.records
    assert "ERR unknown argument '***' near AUTH" in record.getMessage()
    assert password not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@store:6379/0",
        "redis://slimgate:hunter2@store:6379/0",
        "redis://store:6379/0?password=hunter2",
        "rediss://store:6379/0?ssl_cert_reqs=none",
        "redis://store:6379/0#hunter2",
    ],
)
def test_a_url_with_a_login_or_a_query_is_refused_without_repeating_it(url: str) -> None:
    options = SharedCacheOptions(url=url, secret_file="/unused")
    with pytest.raises(ConfigError, match="takes no login and no query") as caught:
        RedisStore.connect(options, Counters())
    assert "hunter2" not in str(caught.value)
    assert "ssl_cert_reqs" not in str(caught.value)


def test_a_username_without_a_password_is_refused() -> None:
    options = SharedCacheOptions(url="redis://store:6379/0", secret_file="/x", username="gate")
    with pytest.raises(ConfigError, match="username needs passwordFile"):
        RedisStore.connect(options, Counters())

"""The per-host breaker, and lookups that end by their caller's deadline."""

from __future__ import annotations

import time

import httpx
import pytest

from slimgate.errors import RegistryUnavailable, TimedOut
from slimgate.registry import CacheOptions, RegistryClient, RegistryOptions
from slimgate.registry.breaker import MAX_HOSTS, Breaker
from slimgate.registry.limits import Deadline, lookups_end_by
from slimgate.registry.options import Limits
from tests.support.fixtures import ManualClock
from tests.support.images import build_image
from tests.unit.registry.mock_registry import HOST, MockRegistry

IMAGE = build_image()


def test_the_breaker_opens_after_timeouts_in_a_row_then_lets_one_trial_through() -> None:
    clock = ManualClock()
    breaker = Breaker(timeouts=2, seconds=30, clock=clock)
    breaker.enter("slow.test", "slow.test")
    breaker.timed_out("slow.test")
    breaker.enter("slow.test", "slow.test")  # one timeout is not enough
    breaker.timed_out("slow.test")
    with pytest.raises(RegistryUnavailable, match="2 times in a row"):
        breaker.enter("slow.test", "slow.test")
    breaker.enter("fast.test", "fast.test")  # other hosts are not affected
    clock.advance(30)
    breaker.enter("slow.test", "slow.test")  # the trial
    with pytest.raises(RegistryUnavailable):
        breaker.enter("slow.test", "slow.test")  # while the trial runs
    breaker.timed_out("slow.test")  # the trial timed out too: open again at once
    with pytest.raises(RegistryUnavailable):
        breaker.enter("slow.test", "slow.test")
    clock.advance(30)
    breaker.enter("slow.test", "slow.test")
    breaker.answered("slow.test")  # the trial was answered: closed
    assert not breaker.is_open("slow.test")
    breaker.enter("slow.test", "slow.test")


def test_an_answer_resets_the_count() -> None:
    breaker = Breaker(timeouts=2, seconds=30, clock=ManualClock())
    breaker.timed_out("h")
    breaker.answered("h")
    breaker.timed_out("h")
    breaker.enter("h", "h")


def test_the_breaker_remembers_a_bounded_number_of_hosts() -> None:
    breaker = Breaker(timeouts=1, seconds=30, clock=ManualClock())
    breaker.timed_out("first.test")
    for n in range(MAX_HOSTS):
        breaker.timed_out(f"host{n}.test")
    assert not breaker.is_open("first.test")  # forgotten: starts again closed
    assert breaker.is_open(f"host{MAX_HOSTS - 1}.test")


def test_lookups_inside_lookups_end_by_get_at_most_the_time_left() -> None:
    assert Deadline.for_lookup(10).seconds == 10
    with lookups_end_by(time.monotonic() + 0.5):
        assert 0.4 < Deadline.for_lookup(10).seconds <= 0.5
        assert Deadline.for_lookup(0.1).seconds == 0.1
    with lookups_end_by(time.monotonic() - 1):
        assert Deadline.for_lookup(10).seconds == 0


def _timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def test_a_host_that_keeps_timing_out_is_not_asked_for_a_while() -> None:
    options = RegistryOptions(
        limits=Limits(breaker_timeouts=2, breaker_seconds=30),
        cache=CacheOptions(negative_ttl_seconds=0),
    )
    client = RegistryClient(
        options, clock=ManualClock(), transport=httpx.MockTransport(_timing_out)
    )
    for _ in range(2):
        with pytest.raises(TimedOut):
            client.fetch(f"{HOST}/team/app:1")
    with pytest.raises(RegistryUnavailable, match="not asked for now") as caught:
        client.fetch(f"{HOST}/team/app:2")
    assert not isinstance(caught.value, TimedOut)
    assert client.counters.requests() == 2  # the third lookup sent nothing


def test_a_caller_without_time_left_gets_a_timeout_that_is_not_remembered() -> None:
    registry = MockRegistry()
    registry.add("team/app", "1", IMAGE)
    options = RegistryOptions(limits=Limits(breaker_timeouts=1))
    client = RegistryClient(options, clock=ManualClock(), transport=registry.transport())
    with lookups_end_by(time.monotonic() - 1), pytest.raises(TimedOut):
        client.fetch(f"{HOST}/team/app:1")
    assert registry.requests == []
    assert not client.breaker.is_open(HOST)
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest  # no negative entry

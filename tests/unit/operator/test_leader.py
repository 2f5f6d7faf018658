"""Lease election: acquire, renew, stand by, take over an expired lease, lose a race."""

from __future__ import annotations

import pytest

from slimgate.operator.leader import LEASE_API, LeaseElector

from .fakeapi import FakeApi


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pair() -> tuple[FakeApi, Clock, LeaseElector, LeaseElector]:
    api, clock = FakeApi(), Clock()
    a = LeaseElector(api, "slimgate", "lock", "a", duration=15, monotonic=clock)
    b = LeaseElector(api, "slimgate", "lock", "b", duration=15, monotonic=clock)
    return api, clock, a, b


def test_the_first_replica_acquires_and_the_second_stands_by() -> None:
    api, _, a, b = _pair()
    assert a.step()
    assert not b.step()
    lease = api.objects[(LEASE_API, "leases", "slimgate", "lock")]
    assert lease["spec"]["holderIdentity"] == "a"
    assert a.step()  # renews
    assert not b.step()


def test_a_lease_not_renewed_for_its_duration_is_taken_over() -> None:
    api, clock, a, b = _pair()
    a.step()
    assert not b.step()
    clock.now += 10
    assert not b.step()  # not yet: 10 s < 15 s since b last saw a change
    clock.now += 6
    assert b.step()
    lease = api.objects[(LEASE_API, "leases", "slimgate", "lock")]
    assert (lease["spec"]["holderIdentity"], lease["spec"]["leaseTransitions"]) == ("b", 1)
    assert not a.step()  # a sees b holding a fresh lease


def test_renewals_keep_a_standby_waiting() -> None:
    _, clock, a, b = _pair()
    a.step()
    for _ in range(5):
        clock.now += 10
        assert a.step()
        assert not b.step()


def test_release_hands_over_at_once() -> None:
    _, _, a, b = _pair()
    a.step()
    b.step()
    a.release()
    assert b.step()


def test_two_candidates_racing_on_one_version_cannot_both_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, clock, a, b = _pair()
    c = LeaseElector(api, "slimgate", "lock", "c", duration=15, monotonic=clock)
    a.step()
    b.step()
    c.step()
    clock.now += 20  # a stopped renewing: b and c both see an expired lease
    real_get = api.get

    def b_wins_between_cs_read_and_write(*args: str) -> object:
        lease = real_get(*args)  # c's read, at the old resourceVersion
        monkeypatch.setattr(api, "get", real_get)
        assert b.step()  # b takes the lease over first
        return lease

    monkeypatch.setattr(api, "get", b_wins_between_cs_read_and_write)
    assert c.step() is False  # c's write carries the old version: 409, c stands by
    assert not c.leading
    lease = api.objects[(LEASE_API, "leases", "slimgate", "lock")]
    assert (lease["spec"]["holderIdentity"], lease["spec"]["leaseTransitions"]) == ("b", 1)

"""Debouncing of namespace writes and the hourly limit on events."""

from __future__ import annotations

from datetime import UTC, datetime

from slimgate.operator.events import REASON, EventRecorder
from slimgate.operator.timing import Debouncer, RateLimiter
from slimgate.policy.decision import Exemption, RuleAction
from tests.support.audits import oversize_layer, result, toolchain, workload

from .fakeapi import FakeApi


def test_a_burst_of_changes_is_one_write_after_a_quiet_period() -> None:
    debouncer = Debouncer(quiet=2, longest=30)
    for t in (0.0, 0.5, 1.0, 1.5):
        debouncer.touch("shop", t)
    assert debouncer.due(3.0) == set()
    assert debouncer.due(3.6) == {"shop"}
    assert debouncer.due(10.0) == set()


def test_constant_churn_is_still_written_within_the_longest_delay() -> None:
    debouncer = Debouncer(quiet=2, longest=30)
    t = 0.0
    while t < 31:
        debouncer.touch("busy", t)
        if t >= 30:
            break
        assert debouncer.due(t) == set()
        t += 1
    assert debouncer.due(30.0) == {"busy"}


def test_rate_limiter_allows_one_per_key_per_period() -> None:
    limiter = RateLimiter(period=3600)
    assert limiter.allow("k", 0)
    assert not limiter.allow("k", 3599)
    assert limiter.allow("other", 10)
    assert limiter.allow("k", 3600)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_events_go_to_denied_workloads_once_per_digest_per_hour() -> None:
    api, clock = FakeApi(), Clock()
    recorder = EventRecorder(
        api, period=3600, monotonic=clock, wall=lambda: datetime(2025, 3, 1, tzinfo=UTC)
    )
    denied = (
        workload("shop", "Deployment", "web")
        .run("app", result("reg/web:1", toolchain()), 50)
        .build()
    )
    assert recorder.record(denied) == 1
    assert recorder.record(denied) == 0  # same workload and digest within the hour
    [event] = [o for (a, p, ns, n), o in api.objects.items() if p == "events"]
    assert event["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
        "uid": "uid-web",
    }
    assert (event["reason"], event["type"]) == (REASON, "Warning")
    assert "reg/web:1 would be denied" in event["message"]
    assert "golang" in event["message"]
    clock.now = 3601
    assert recorder.record(denied) == 1


def test_warned_exempt_or_unreadable_images_get_no_event() -> None:
    api = FakeApi()
    recorder = EventRecorder(api)
    warned = (
        workload("a", "Deployment", "w")
        .run("app", result("reg/w:1", oversize_layer(1, 300_000_000)))
        .build()
    )
    exempt = (
        workload("a", "Deployment", "e")
        .run(
            "app",
            result("reg/e:1", toolchain(action=RuleAction.DENY), exemption=Exemption(reason="x")),
        )
        .build()
    )
    assert recorder.record(warned) == 0
    assert recorder.record(exempt) == 0
    assert api.writes("events") == []

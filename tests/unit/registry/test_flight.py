"""Single-flight: concurrent callers of one key share one call."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from slimgate.registry.flight import SingleFlight


def test_concurrent_callers_share_one_call_and_its_result() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = []
    everyone_waiting = threading.Event()

    def work() -> int:
        calls.append(1)
        # Hold the call open until the 19 other callers have joined it.
        while flight.joined("key") < 19:
            everyone_waiting.wait(0.001)
        return 42

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(flight.do, "key", work) for _ in range(20)]
        results = [f.result(timeout=10) for f in futures]
    assert results == [42] * 20
    assert len(calls) == 1


def test_an_exception_reaches_every_waiter_and_the_key_is_freed() -> None:
    flight: SingleFlight[int] = SingleFlight()

    def fail() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        flight.do("k", fail)
    assert flight.do("k", lambda: 1) == 1
    assert flight.joined("k") == 0


def test_different_keys_do_not_share() -> None:
    """While key "a" is in flight, a call for "b" runs its own function and returns."""
    flight: SingleFlight[str] = SingleFlight()
    started, release = threading.Event(), threading.Event()

    def held() -> str:
        started.set()
        assert release.wait(10)
        return "A"

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(flight.do, "a", held)
        assert started.wait(10)
        assert flight.do("b", lambda: "B") == "B"  # would wait on "a" if keys were shared
        assert not first.done()
        release.set()
        assert first.result(timeout=10) == "A"

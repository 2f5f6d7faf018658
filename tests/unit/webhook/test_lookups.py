"""The lookup pool: a few lookups per registry at once, each ending with its review."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from slimgate.config import WebhookSettings
from slimgate.evaluation import ImageResult
from slimgate.model import DEFAULT_PLATFORM, Platform, Subject
from slimgate.registry.limits import ceiling
from slimgate.webhook.app import create_app
from slimgate.webhook.lookups import LookupPool, registry_of
from tests.support import admission
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import BLOATED, FakeEngine


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(8)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


class Gate:
    """Calls that wait for ``release``, counting how many wait at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.ran: list[str] = []

    def __call__(self, name: str) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.ran.append(name)
        self.release.wait(10)
        with self.lock:
            self.now -= 1
        return name


def test_registry_of_names_the_host_and_tolerates_garbage() -> None:
    assert registry_of("nginx:1") == "docker.io"
    assert registry_of("ghcr.io/org/app:1") == "ghcr.io"
    assert registry_of("Not A Reference") == ""


def test_at_most_the_limit_runs_per_registry_and_the_rest_follow(
    executor: ThreadPoolExecutor,
) -> None:
    pool = LookupPool(executor, per_registry=2, threads=8)
    gate = Gate()
    deadline = time.monotonic() + 10
    futures = [pool.submit("slow.test", deadline, gate, f"img{n}") for n in range(5)]
    time.sleep(0.2)
    assert (pool.running("slow.test"), pool.waiting("slow.test")) == (2, 3)
    gate.release.set()
    assert [f.result(5) for f in futures] == [f"img{n}" for n in range(5)]
    assert gate.most == 2
    assert (pool.running("slow.test"), pool.waiting("slow.test")) == (0, 0)


def test_a_saturated_registry_does_not_hold_up_another(executor: ThreadPoolExecutor) -> None:
    pool = LookupPool(executor, per_registry=2, threads=8)
    gate = Gate()
    deadline = time.monotonic() + 10
    for n in range(20):
        pool.submit("slow.test", deadline, gate, f"slow{n}")
    healthy = pool.submit("fast.test", deadline, str.upper, "fast")
    assert healthy.result(2) == "FAST"
    gate.release.set()


def test_many_slow_registries_cannot_take_every_thread_from_a_quiet_one(
    executor: ThreadPoolExecutor,
) -> None:
    # Eight threads; eight slow registries may run two lookups each, so sixteen could start
    # but only eight threads exist. The quiet registry's lookup takes the first free thread
    # instead of queueing behind the slow lookups that were submitted before it.
    pool = LookupPool(executor, per_registry=2, threads=8)
    one_ends = threading.Semaphore(0)
    ran: list[str] = []

    def slow(name: str) -> str:
        one_ends.acquire(timeout=10)
        ran.append(name)
        return name

    deadline = time.monotonic() + 10
    slow_lookups = [pool.submit(f"slow{n % 8}.test", deadline, slow, f"slow{n}") for n in range(24)]
    quiet = pool.submit("quiet.test", deadline, str.upper, "quiet")
    time.sleep(0.2)
    assert not quiet.done()  # every thread is held by a slow registry
    one_ends.release()
    assert quiet.result(2) == "QUIET"
    assert len(ran) == 1  # it did not wait for the sixteen submitted before it
    for _ in range(23):
        one_ends.release()
    assert sorted(f.result(5) for f in slow_lookups) == sorted(f"slow{n}" for n in range(24))


def test_the_next_thread_goes_to_the_registry_with_the_fewest_running(
    executor: ThreadPoolExecutor,
) -> None:
    pool = LookupPool(executor, per_registry=4, threads=2)
    order: list[str] = []
    hold = threading.Event()

    def record(name: str) -> None:
        hold.wait(5)
        order.append(name)

    deadline = time.monotonic() + 10
    first = [pool.submit("busy.test", deadline, record, f"busy{n}") for n in range(2)]
    later = [pool.submit("busy.test", deadline, record, f"busy{n}") for n in range(2, 5)]
    other = pool.submit("other.test", deadline, record, "other")
    hold.set()
    for future in [*first, *later, other]:
        future.result(5)
    # busy0 and busy1 took both threads; when the first of them ended, other.test (none
    # running) went ahead of the three busy lookups submitted before it.
    assert order.index("other") < order.index("busy3")
    assert order.index("other") <= 2


def test_a_cancelled_waiting_lookup_never_runs(executor: ThreadPoolExecutor) -> None:
    pool = LookupPool(executor, per_registry=1, threads=8)
    gate = Gate()
    deadline = time.monotonic() + 10
    first = pool.submit("slow.test", deadline, gate, "first")
    dropped = pool.submit("slow.test", deadline, gate, "dropped")
    assert dropped.cancel()
    gate.release.set()
    assert first.result(5) == "first"
    assert gate.ran == ["first"]
    assert pool.waiting("slow.test") == 0


def test_each_lookup_runs_with_its_deadline_as_the_ceiling(executor: ThreadPoolExecutor) -> None:
    pool = LookupPool(executor, per_registry=1, threads=8)
    deadline = time.monotonic() + 3
    assert pool.submit("r", deadline, ceiling).result(5) == deadline
    assert ceiling() is None  # not set here


def test_an_exception_reaches_the_future_and_frees_the_slot(
    executor: ThreadPoolExecutor,
) -> None:
    pool = LookupPool(executor, per_registry=1, threads=8)
    deadline = time.monotonic() + 3
    failed = pool.submit("r", deadline, int, "not a number")
    with pytest.raises(ValueError, match="invalid literal"):
        failed.result(5)
    assert pool.submit("r", deadline, int, "7").result(5) == 7


def test_after_shutdown_lookups_fail_instead_of_hanging() -> None:
    executor = ThreadPoolExecutor(1)
    executor.shutdown()
    pool = LookupPool(executor, per_registry=1, threads=8)
    future = pool.submit("r", time.monotonic() + 1, str, "x")
    with pytest.raises(RuntimeError):
        future.result(1)
    assert pool.running("r") == 0


class Dripping(FakeEngine):
    """Images of ``slow.test`` wait for the release, and record how many waited at once."""

    def __init__(self) -> None:
        super().__init__(canned={"healthy.test/team/api:1": BLOATED})
        self.gate = Gate()

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> ImageResult:
        if image.startswith("slow.test/"):
            self.gate(image)
        return super().evaluate(image, subject, platforms)


def test_a_pod_full_of_one_slow_registry_leaves_threads_for_the_others() -> None:
    engine = Dripping()
    settings = WebhookSettings(deadline_seconds=1.0, lookups_per_registry=4)
    app = create_app(settings, engine, pool_size=8)
    attack = admission.review(admission.pod([f"slow.test/team/app{n}:1" for n in range(40)]))
    answers: list[dict[str, object]] = []
    attacker = threading.Thread(target=lambda: answers.append(post(app.test_client(), attack)))
    try:
        attacker.start()
        time.sleep(0.2)  # the attack holds its lookups now
        started = time.monotonic()
        denied = post(
            app.test_client(), admission.review(admission.pod(["healthy.test/team/api:1"]))
        )
        assert time.monotonic() - started < 0.5
        assert denied["allowed"] is False
        assert "toolchain-base" in str(denied["status"])
        attacker.join(5)
        assert answers  # the attack itself was answered at its deadline
        assert engine.gate.most == 4  # never more than the limit for one registry
        assert len(engine.gate.ran) == 4  # the others were dropped at the deadline
    finally:
        engine.gate.release.set()
        app.extensions["slimgate"]["pool"].shutdown(wait=True)

"""The node-platform watcher: list, then watch; the last known set through failures."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator

import pytest

from slimgate.cluster.nodes import Event, NodePlatforms, node_platform
from slimgate.kube.placement import read_placement
from slimgate.model import Platform

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")


class ScriptedNodes:
    """Lists answer from ``lists`` (an exception is raised); watch events come from a queue
    until ``None`` ends the watch."""

    def __init__(self, *lists: dict[str, Platform | None] | Exception) -> None:
        self.lists = list(lists)
        self.events: queue.Queue[Event | None] = queue.Queue()
        self.listed = threading.Semaphore(0)
        self.closed = False

    def list(self) -> tuple[dict[str, Platform | None], str]:
        answer = self.lists.pop(0) if len(self.lists) > 1 else self.lists[0]
        self.listed.release()
        if isinstance(answer, Exception):
            raise answer
        return dict(answer), "1"

    def watch(self, resource_version: str, seconds: int) -> Iterator[Event]:
        while not self.closed:
            try:
                event = self.events.get(timeout=0.05)
            except queue.Empty:
                continue
            if event is None:
                return
            yield event

    def close(self) -> None:
        self.closed = True


def settled(watcher: NodePlatforms, expected: tuple[Platform, ...]) -> bool:
    done = threading.Event()
    for _ in range(200):
        if watcher.current() == expected:
            return True
        done.wait(0.01)
    return False


def test_node_labels_name_the_platform() -> None:
    labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"}
    assert node_platform(labels) == ARM64
    assert node_platform({"kubernetes.io/arch": "amd64"}) == AMD64
    assert node_platform({"kubernetes.io/os": "linux"}) is None


def test_list_then_watch_keeps_the_set_of_platforms() -> None:
    source = ScriptedNodes({"a": AMD64, "b": AMD64, "c": None})
    watcher = NodePlatforms(source)
    watcher.start()
    try:
        assert watcher.wait_listed(5)
        assert watcher.current() == (AMD64,)
        source.events.put(("ADDED", "arm", ARM64))
        assert settled(watcher, (AMD64, ARM64))
        source.events.put(("DELETED", "arm", ARM64))
        assert settled(watcher, (AMD64,))
        source.events.put(("MODIFIED", "a", ARM64))  # relabelled: b is still amd64
        assert settled(watcher, (AMD64, ARM64))
    finally:
        watcher.close()


def test_allowed_narrows_the_known_platforms_by_placement() -> None:
    source = ScriptedNodes({"a": AMD64, "b": ARM64})
    watcher = NodePlatforms(source)
    pinned = read_placement({"nodeSelector": {"kubernetes.io/arch": "arm64"}})
    assert watcher.allowed(pinned) == ()  # not listed yet: the caller's configured ones
    watcher.start()
    try:
        assert watcher.wait_listed(5)
        assert watcher.allowed(pinned) == (ARM64,)
        assert watcher.allowed(read_placement({})) == (AMD64, ARM64)
    finally:
        watcher.close()


def test_an_error_event_lists_again() -> None:
    source = ScriptedNodes({"a": AMD64}, {"a": AMD64, "b": ARM64})
    watcher = NodePlatforms(source)
    watcher.start()
    try:
        assert watcher.wait_listed(5)
        source.events.put(("ERROR", "", None))  # 410 Gone: the resourceVersion is too old
        assert settled(watcher, (AMD64, ARM64))
    finally:
        watcher.close()


def test_until_the_nodes_can_be_listed_nothing_is_known_and_the_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = ScriptedNodes(RuntimeError("nodes is forbidden"), {"a": ARM64})
    watcher = NodePlatforms(source, retry_seconds=0.05)
    with caplog.at_level(logging.WARNING, "slimgate.nodes"):
        watcher.start()
        try:
            assert source.listed.acquire(timeout=5)
            assert watcher.current() == ()
            assert watcher.wait_listed(5)
            assert watcher.current() == (ARM64,)
        finally:
            watcher.close()
    assert "cannot list or watch nodes (RuntimeError: nodes is forbidden)" in caplog.text
    assert "using the configured platforms" in caplog.text


def test_the_cache_keeps_at_most_max_nodes() -> None:
    source = ScriptedNodes({"a": AMD64, "b": AMD64})
    watcher = NodePlatforms(source, max_nodes=2)
    watcher.start()
    try:
        assert watcher.wait_listed(5)
        source.events.put(("ADDED", "c", ARM64))  # past the bound: not kept
        source.events.put(("MODIFIED", "b", ARM64))  # a known node: kept
        assert settled(watcher, (AMD64, ARM64))
        assert len(watcher._nodes) == 2
    finally:
        watcher.close()

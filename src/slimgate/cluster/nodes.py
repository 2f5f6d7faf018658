"""The platforms of the cluster's nodes, kept current by a list and a watch of core/v1 Node.

``registry.platforms: auto`` evaluates images for the platforms the cluster actually runs:
each node's ``kubernetes.io/os`` and ``kubernetes.io/arch`` labels (set by the kubelet).
One daemon thread lists the nodes, then watches them from the list's resourceVersion until
the server ends the watch (``WATCH_SECONDS``) or it fails, and lists again; a failure is
logged once per streak and retried after ``RETRY_SECONDS``. The cache holds one platform per
node name, at most ``max_nodes`` of them (the nodes past it are counted, not kept), so its
size is bounded whatever the cluster.

Until a first list succeeds :meth:`NodePlatforms.current` is empty and callers use their
configured platforms; after that it keeps the last known set through a broken watch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from slimgate.kube.placement import ARCH_LABEL, OS_LABEL, Placement, narrow
from slimgate.model import Platform

log = logging.getLogger("slimgate.nodes")

WATCH_SECONDS = 300
RETRY_SECONDS = 5.0
MAX_NODES = 20_000
MAX_EVENT_BYTES = 8 * 1024 * 1024  # one Node in a watch event

Event = tuple[str, str, Platform | None]  # type, node name, its platform


class NodeSource(Protocol):
    """Node reads: :class:`KubernetesNodes` over the API; tests pass their own."""

    def list(self) -> tuple[dict[str, Platform | None], str]:
        """Every node's platform by name, and the list's resourceVersion."""
        ...

    def watch(self, resource_version: str, seconds: int) -> Iterator[Event]:
        """The changes after ``resource_version`` until the server ends the watch."""
        ...

    def close(self) -> None: ...


def node_platform(labels: Mapping[str, str] | None) -> Platform | None:
    """The platform a node's labels name; None without ``kubernetes.io/arch``."""
    labels = labels or {}
    arch = labels.get(ARCH_LABEL)
    if not arch:
        return None
    return Platform(os=labels.get(OS_LABEL) or "linux", architecture=arch)


class NodePlatforms:
    """The set of node platforms, maintained in the background (``start``/``close``)."""

    def __init__(
        self,
        source: NodeSource,
        *,
        max_nodes: int = MAX_NODES,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._source = source
        self._max_nodes = max_nodes
        self._retry = retry_seconds
        self._nodes: dict[str, Platform | None] = {}
        self._current: tuple[Platform, ...] = ()
        self._listed = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def current(self) -> tuple[Platform, ...]:
        """The platforms of the known nodes, sorted; empty until the first list."""
        return self._current

    def allowed(self, placement: Placement) -> tuple[Platform, ...]:
        """The node platforms ``placement`` allows (:func:`~slimgate.kube.placement.narrow`);
        empty until the first list, for the caller to use its configured platforms."""
        present = self._current
        return narrow(present, placement) if present else ()

    def wait_listed(self, timeout: float) -> bool:
        """True once a list has succeeded (within ``timeout`` seconds)."""
        return self._listed.wait(timeout)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="slimgate-node-platforms", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._source.close()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                nodes, version = self._source.list()
                self._replace(nodes)
                if failing or not self._listed.is_set():
                    log.info("node platforms: %s", ", ".join(map(str, self._current)) or "none")
                failing = False
                self._listed.set()
                for kind, name, platform in self._source.watch(version, WATCH_SECONDS):
                    if self._stop.is_set():
                        return
                    if kind == "ERROR":
                        break  # resourceVersion too old, most often: list again
                    self._apply(kind, name, platform)
            except Exception as exc:  # noqa: BLE001 - logged; the last known set stays
                if self._stop.is_set():
                    return
                if not failing:
                    fallback = "the last known nodes" if self._listed.is_set() else "configured"
                    log.warning(
                        "cannot list or watch nodes (%s: %s); using the %s platforms",
                        exc.__class__.__name__,
                        str(exc)[:200],
                        fallback,
                    )
                failing = True
                self._stop.wait(self._retry)

    def _replace(self, nodes: dict[str, Platform | None]) -> None:
        with self._lock:
            self._nodes = dict(list(nodes.items())[: self._max_nodes])
            self._publish()

    def _apply(self, kind: str, name: str, platform: Platform | None) -> None:
        with self._lock:
            if kind == "DELETED":
                self._nodes.pop(name, None)
            elif kind in ("ADDED", "MODIFIED"):
                if name in self._nodes or len(self._nodes) < self._max_nodes:
                    self._nodes[name] = platform
            else:
                return
            self._publish()

    def _publish(self) -> None:
        present = {p for p in self._nodes.values() if p is not None}
        self._current = tuple(sorted(present, key=str))


class KubernetesNodes:
    """:class:`NodeSource` over the Kubernetes API; reads only the nodes' metadata."""

    def __init__(self, configuration: Any = None) -> None:
        from kubernetes import client  # lazy: only with registry.platforms: auto

        from slimgate.cluster.api import KubeApi, own_configuration

        self._client = client.ApiClient(own_configuration(configuration))
        self._api = KubeApi(self._client)

    def list(self) -> tuple[dict[str, Platform | None], str]:
        nodes: dict[str, Platform | None] = {}
        version = ""
        for page in self._api.pages("/api/v1/nodes", {}):
            nodes.update(named for named in map(_read, page.get("items") or []) if named[0])
            version = str((page.get("metadata") or {}).get("resourceVersion") or "")
        return nodes, version

    def watch(self, resource_version: str, seconds: int) -> Iterator[Event]:
        import json

        params = self._client.param_serialize(
            method="GET",
            resource_path="/api/v1/nodes",
            query_params=[
                ("watch", "true"),
                ("resourceVersion", resource_version),
                ("timeoutSeconds", str(seconds)),
                ("allowWatchBookmarks", "true"),
            ],
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self._client.rest_client.pool_manager.request(
            params[0],
            params[1],
            headers=params[2],
            preload_content=False,
            timeout=seconds + 30,
        )
        try:
            if response.status != 200:
                raise OSError(f"watch nodes: HTTP {response.status}")
            for line in _lines(response.stream(64 * 1024)):
                event = json.loads(line)
                kind = str(event.get("type") or "")
                name, platform = _read(event.get("object") or {})
                yield kind, name, platform
        finally:
            response.release_conn()

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def _read(node: Mapping[str, Any]) -> tuple[str, Platform | None]:
    metadata = node.get("metadata") or {}
    labels = metadata.get("labels")
    if not isinstance(labels, dict):
        labels = {}
    name = metadata.get("name")
    return (name if isinstance(name, str) else ""), node_platform(labels)


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The newline-separated events of a watch, each at most ``MAX_EVENT_BYTES``."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        yield from (line for line in complete if line.strip())
        if len(buffer) > MAX_EVENT_BYTES:
            raise OSError(f"watch nodes: an event longer than {MAX_EVENT_BYTES} bytes")
    if buffer.strip():
        yield buffer

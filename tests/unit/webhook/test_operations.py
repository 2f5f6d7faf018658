"""Health, readiness, metrics, JSON decision logs and configuration reload."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from slimgate.config import WebhookSettings
from slimgate.errors import ConfigError
from slimgate.policy.decision import Mode
from slimgate.policy.model import Policy
from slimgate.runtime.jsonlog import JsonFormatter
from slimgate.webhook.app import Wiring, create_app
from tests.support import admission
from tests.support.volumes import project
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import BLOATED, DEFAULT_RULES, FakeEngine

GO = "registry.example/team/api:1.4"


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_metrics_use_the_apps_own_registry(engine: FakeEngine) -> None:
    first = create_app(WebhookSettings(), engine)
    second = create_app(WebhookSettings(), engine)  # would clash on the global registry
    post(first.test_client(), admission.review(admission.pod(["a:1"])))
    text = first.test_client().get("/metrics").get_data(as_text=True)
    assert (
        'slimgate_admission_requests_total{decision="allow",enforced="allow",kind="Pod"} 1.0'
        in text
    )
    assert 'slimgate_admission_duration_seconds_count{kind="Pod"} 1.0' in text
    assert "slimgate_config_last_reload_success 1.0" in text
    other = second.test_client().get("/metrics").get_data(as_text=True)
    assert 'slimgate_admission_requests_total{decision="allow"' not in other


def test_registry_observer_feeds_the_counters(engine: FakeEngine) -> None:
    from slimgate.webhook.metrics import WebhookMetrics

    metrics = WebhookMetrics()
    observer = metrics.lookups
    observer.request("registry.example", "GET", 200)
    observer.cache("manifest", True)
    observer.cache("manifest", False)
    app = create_app(WebhookSettings(), engine, metrics=metrics)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert (
        'slimgate_registry_requests_total{host="registry.example",method="GET",status="200"} 1.0'
        in text
    )
    assert 'slimgate_registry_cache_hits_total{cache="manifest"} 1.0' in text
    assert 'slimgate_registry_cache_misses_total{cache="manifest"} 1.0' in text


def test_one_json_log_line_per_decision_without_specs(
    client: FlaskClient, engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    engine.canned[GO] = BLOATED
    body = admission.review(
        admission.pod([GO], pull_secrets=["regcred"], name="api"), uid="uid-log", dry_run=True
    )
    body["request"]["object"]["spec"]["containers"][0]["env"] = [
        {"name": "DB_PASSWORD", "value": "hunter2"}
    ]
    with caplog.at_level(logging.INFO, logger="slimgate.webhook"):
        post(client, body)
    records = [r for r in caplog.records if r.getMessage() == "admission decision"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["uid"] == "uid-log"
    assert (entry["kind"], entry["namespace"], entry["name"]) == ("Pod", "default", "api")
    assert entry["decision"] == "deny"
    assert entry["dryRun"] is True
    assert entry["images"][0]["image"] == GO
    assert entry["images"][0]["rules"] == ["toolchain-base"]
    assert isinstance(entry["durationSeconds"], float)
    assert "hunter2" not in line
    assert "regcred" not in line
    assert "containers" not in entry


# --- configuration reload ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def mount_configmap(root: Path, content: str, generation: int) -> Path:
    """Lay out a ConfigMap volume the way the kubelet does: ``..data`` -> timestamped dir."""
    project(root, {"config.yaml": content}, generation)
    return root / "config.yaml"


def rebuild_from(path: Path) -> Wiring:
    """A stand-in for the composition root: the file names the policy mode."""
    mode = path.read_text().strip()
    if mode not in {m.value for m in Mode}:
        raise ConfigError(f"{path}: unknown mode {mode!r}")
    return Wiring(
        WebhookSettings(),
        FakeEngine(canned={GO: BLOATED}, policy=Policy(rules=DEFAULT_RULES, mode=Mode(mode))),
    )


def test_configmap_swap_reloads_and_a_bad_file_keeps_the_old_one(tmp_path: Path) -> None:
    clock = Clock()
    config = mount_configmap(tmp_path, "enforce", 1)
    first = rebuild_from(config)
    app = create_app(
        WebhookSettings(reload_interval_seconds=5),
        first.engine,
        config_path=config,
        rebuild=rebuild_from,
        clock=clock,
    )
    client = app.test_client()

    def allowed() -> bool:
        return bool(post(client, admission.review(admission.pod([GO])))["allowed"])

    assert allowed() is False
    mount_configmap(tmp_path, "warn", 2)
    assert allowed() is False  # not looked at before the interval has passed
    clock.now += 6
    assert allowed() is True  # reloaded: warn mode

    mount_configmap(tmp_path, "nonsense", 3)
    clock.now += 6
    assert allowed() is True  # the bad file is refused, warn mode stays
    text = client.get("/metrics").get_data(as_text=True)
    assert "slimgate_config_reload_failures_total 1.0" in text
    assert "slimgate_config_last_reload_success 0.0" in text
    assert "slimgate_config_reloads_total 1.0" in text

    mount_configmap(tmp_path, "enforce", 4)
    clock.now += 6
    client.get("/readyz")  # probes trigger the check too
    assert allowed() is False
    assert "slimgate_config_last_reload_success 1.0" in client.get("/metrics").get_data(
        as_text=True
    )


def test_a_background_reload_never_holds_up_a_review(tmp_path: Path) -> None:
    """Served on an event loop, a review must not wait for a rebuild (new clients, imports)."""
    clock = Clock()
    config = mount_configmap(tmp_path, "enforce", 1)
    first = rebuild_from(config)
    building, finish = threading.Event(), threading.Event()

    def slow_rebuild(path: Path) -> Wiring:
        building.set()
        assert finish.wait(10)
        return rebuild_from(path)

    app = create_app(
        WebhookSettings(reload_interval_seconds=5),
        first.engine,
        config_path=config,
        rebuild=slow_rebuild,
        clock=clock,
        reload_in_background=True,
    )
    client = app.test_client()

    def allowed() -> bool:
        return bool(post(client, admission.review(admission.pod([GO])))["allowed"])

    mount_configmap(tmp_path, "warn", 2)
    clock.now += 6
    assert allowed() is False  # answered by the running generation while the rebuild waits
    assert building.wait(5)
    assert allowed() is False
    finish.set()
    deadline = time.monotonic() + 5
    while not allowed():  # the rebuilt generation takes over once it is ready
        assert time.monotonic() < deadline, "the background reload did not finish"
        time.sleep(0.02)


def test_a_rebuild_that_fails_unexpectedly_keeps_the_old_configuration(tmp_path: Path) -> None:
    clock = Clock()
    config = mount_configmap(tmp_path, "enforce", 1)

    def broken(path: Path) -> Wiring:
        raise RuntimeError("kubernetes client could not be configured")

    app = create_app(
        WebhookSettings(reload_interval_seconds=5),
        rebuild_from(config).engine,
        config_path=config,
        rebuild=broken,
        clock=clock,
    )
    client = app.test_client()
    mount_configmap(tmp_path, "warn", 2)
    clock.now += 6
    answer = client.post("/validate", json=admission.review(admission.pod([GO])))
    assert answer.status_code == 200
    assert answer.get_json()["response"]["allowed"] is False  # enforce mode stays
    text = client.get("/metrics").get_data(as_text=True)
    assert "slimgate_config_reload_failures_total 1.0" in text


def test_background_log_lines_are_all_written_in_order_by_exit() -> None:
    import io

    from slimgate.runtime.jsonlog import LineWriter, QueuedLineHandler

    stream = io.StringIO()
    writer = LineWriter(stream)
    handler = QueuedLineHandler(writer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("slimgate.test.background")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for i in range(1000):
            logger.warning("decision", extra={"fields": {"n": i}})
    finally:
        logger.removeHandler(handler)
    writer.stop()
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["n"] for line in lines] == list(range(1000))

"""The operator's composition root without a cluster: logs and metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from slimgate.operator.app import run
from slimgate.operator.metrics import AuditMetrics


@pytest.fixture
def restored_loggers() -> Iterator[None]:
    """``run`` configures the slimgate and kopf loggers: put them back afterwards."""
    saved = {
        name: (logger.handlers[:], logger.level, logger.propagate)
        for name in ("slimgate", "kopf")
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.mark.usefixtures("restored_loggers")
def test_a_bad_configuration_is_logged_as_one_json_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("policy:\n  mode: sometimes\n")
    assert run(["--config", str(config), "--kubeconfig", str(tmp_path / "none")]) == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    record = json.loads(line)
    assert record["level"] == "error"
    assert record["logger"] == "slimgate.operator"
    assert f"{config}:2: policy.mode" in record["message"]


def test_registry_metrics_are_exported() -> None:
    metrics = AuditMetrics()
    metrics.lookups.request("registry.example", "GET", 200)
    metrics.lookups.cache("manifest", True)
    metrics.lookups.cache("tag", False)
    text = generate_latest(metrics.registry).decode()
    assert (
        'slimgate_registry_requests_total{host="registry.example",method="GET",status="200"} 1.0'
        in text
    )
    assert 'slimgate_registry_cache_hits_total{cache="manifest"} 1.0' in text
    assert 'slimgate_registry_cache_misses_total{cache="tag"} 1.0' in text

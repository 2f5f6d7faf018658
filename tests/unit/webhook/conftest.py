"""A webhook app around the fake engine, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from slimgate.config import WebhookSettings
from slimgate.webhook.app import create_app
from tests.unit.webhook.fakes import FakeEngine


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def settings() -> WebhookSettings:
    return WebhookSettings(timeout_seconds=5.0)


@pytest.fixture
def app(engine: FakeEngine, settings: WebhookSettings) -> Iterator[Flask]:
    app = create_app(settings, engine)
    yield app
    engine.release.set()
    app.extensions["slimgate"]["pool"].shutdown(wait=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, body: Any) -> dict[str, Any]:
    """POST an AdmissionReview and return its ``response`` (the HTTP status must be 200)."""
    answer = client.post("/validate", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    document = answer.get_json()
    assert document["apiVersion"] == "admission.k8s.io/v1"
    assert document["kind"] == "AdmissionReview"
    return document["response"]  # type: ignore[no-any-return]

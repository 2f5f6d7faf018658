"""A new TLS connection per request, as kubelet probes make them, costs no lasting memory.

Two HTTPS probes every 5 to 10 seconds are about 26,000 connections a day. 20,000 of them
(TLS, one ``GET /healthz`` each, closed by the client) must leave the serving process's RSS
within 10 % of where it stood before. The baseline is taken after 1,000 connections, once
the allocator and the TLS and HTTP code paths have been through their first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.integration.webhook.test_hostile_clients import Served, start
from tests.support.hostile_client import churn

CONNECTIONS = 20_000


@pytest.fixture
def served(tmp_path: Path, test_ca: trustme.CA) -> Iterator[Served]:
    server = start(tmp_path, test_ca, "webhook:\n  timeoutSeconds: 5\n")
    try:
        yield server
    finally:
        server.stop()


def test_twenty_thousand_tls_connections_leave_rss_where_it_was(served: Served) -> None:
    assert churn(served.target, 1_000).failures == 0
    before = served.rss()
    result = churn(served.target, CONNECTIONS)
    after = served.rss()
    assert result.failures == 0
    assert after <= before * 1.10, f"RSS {before:.1f} MB -> {after:.1f} MB"

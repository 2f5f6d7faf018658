"""The certificate store picks up a renewed pair and keeps the last good one otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trustme

from slimgate.errors import CertificateError
from slimgate.runtime.certificates import CertificateStore
from tests.support.tls import handshake_serial, pair, serial_of
from tests.support.volumes import project


class Counts:
    def __init__(self) -> None:
        self.reloads = 0
        self.rejections = 0

    def reloaded(self) -> None:
        self.reloads += 1

    def rejected(self) -> None:
        self.rejections += 1


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def store_on(root: Path, leaf: trustme.LeafCert) -> tuple[CertificateStore, Counts]:
    project(root, pair(leaf), 1)
    store = CertificateStore(root / "tls.crt", root / "tls.key", recheck_seconds=0)
    counts = Counts()
    store.observe(counts)
    return store, counts


def test_a_symlink_swap_to_a_renewed_pair_is_served(tmp_path: Path, ca: trustme.CA) -> None:
    first, renewed = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    store, counts = store_on(tmp_path, first)
    assert handshake_serial(store.context(), ca) == serial_of(first)
    project(tmp_path, pair(renewed), 2)
    assert handshake_serial(store.context(), ca) == serial_of(renewed)
    assert (counts.reloads, counts.rejections) == (1, 0)


def test_a_context_handed_out_before_renewal_serves_the_renewed_pair(
    tmp_path: Path, ca: trustme.CA
) -> None:
    """The asgi worker keeps the one context it got at start; the SNI callback switches."""
    first, renewed = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    store, counts = store_on(tmp_path, first)
    kept = store.context()
    project(tmp_path, pair(renewed), 2)
    assert handshake_serial(kept, ca) == serial_of(renewed)
    assert store.context() is not kept
    assert counts.reloads == 1


def test_unchanged_files_keep_the_same_context(tmp_path: Path, ca: trustme.CA) -> None:
    store, counts = store_on(tmp_path, ca.issue_cert("localhost"))
    assert store.context() is store.context()
    assert counts.reloads == 0


def test_a_mismatched_pair_is_ignored_and_logged(
    tmp_path: Path, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    first, other = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    store, counts = store_on(tmp_path, first)
    mismatched = {"tls.crt": pair(other)["tls.crt"], "tls.key": pair(first)["tls.key"]}
    with caplog.at_level(logging.ERROR, logger="slimgate.webhook"):
        project(tmp_path, mismatched, 2)
        assert handshake_serial(store.context(), ca) == serial_of(first)
        store.context()  # reported once per change, not on every connection
    assert (counts.reloads, counts.rejections) == (0, 1)
    assert [r.getMessage() for r in caplog.records] == [
        "tls certificate not reloaded; serving the previous one"
    ]
    assert "PRIVATE KEY" not in caplog.text


def test_a_half_written_key_is_ignored_until_it_is_complete(tmp_path: Path, ca: trustme.CA) -> None:
    first, renewed = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(pair(first)["tls.crt"])
    key.write_bytes(pair(first)["tls.key"])
    store = CertificateStore(cert, key, recheck_seconds=0)
    new = pair(renewed)
    cert.write_bytes(new["tls.crt"])  # written in place, not swapped: a window exists
    key.write_bytes(new["tls.key"][: len(new["tls.key"]) // 2])
    assert handshake_serial(store.context(), ca) == serial_of(first)
    key.write_bytes(new["tls.key"])
    assert handshake_serial(store.context(), ca) == serial_of(renewed)


def test_a_pair_that_does_not_load_at_start_is_an_error(tmp_path: Path, ca: trustme.CA) -> None:
    first, other = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    project(tmp_path, {"tls.crt": pair(first)["tls.crt"], "tls.key": pair(other)["tls.key"]}, 1)
    with pytest.raises(CertificateError):
        CertificateStore(tmp_path / "tls.crt", tmp_path / "tls.key")


def test_the_files_are_looked_at_at_most_once_per_recheck_interval(
    tmp_path: Path, ca: trustme.CA
) -> None:
    first, renewed = ca.issue_cert("localhost"), ca.issue_cert("localhost")
    project(tmp_path, pair(first), 1)
    now = [100.0]
    store = CertificateStore(
        tmp_path / "tls.crt", tmp_path / "tls.key", recheck_seconds=1.0, clock=lambda: now[0]
    )
    project(tmp_path, pair(renewed), 2)
    now[0] += 0.5
    assert handshake_serial(store.context(), ca) == serial_of(first)  # not looked at yet
    now[0] += 0.6
    assert handshake_serial(store.context(), ca) == serial_of(renewed)

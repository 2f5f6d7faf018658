"""Self-managed TLS: the keeper issues, shares, renews and rotates the webhook's certificate
and keeps the caBundle, against the fake API (the real API server is in tests/e2e)."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509

from slimgate.errors import KubeError
from slimgate.runtime.issuer import Material, ensure_material
from slimgate.webhook.certkeeper import VWC, CertificateKeeper, KeeperSettings
from tests.unit.operator.fakeapi import FakeApi

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
# the names the API server may use for the Service (it calls <svc>.<ns>.svc)
NAMES = (
    "gate-webhook",
    "gate-webhook.gate",
    "gate-webhook.gate.svc",
    "gate-webhook.gate.svc.cluster.local",
)


@pytest.fixture
def api() -> FakeApi:
    """A cluster holding the empty Secret ``gate/tls`` and the configuration ``gate``."""
    api = FakeApi()
    api.put("v1", "secrets", {"metadata": {"name": "tls", "namespace": "gate"}, "type": "Opaque"})
    api.put(
        *VWC,
        {
            "metadata": {"name": "gate"},
            "webhooks": [
                {"name": "a.slimgate.io", "clientConfig": {"service": {"name": "x"}}},
                {"name": "b.slimgate.io", "clientConfig": {"service": {"name": "x"}}},
            ],
        },
    )
    return api


def _keeper(api: FakeApi, folder: Path, now: datetime.datetime = NOW) -> CertificateKeeper:
    settings = KeeperSettings("gate", "tls", "gate", NAMES, folder)
    return CertificateKeeper(api, settings, now=lambda: now)


def _secret(api: FakeApi) -> dict[str, bytes]:
    data = api.objects[("v1", "secrets", "gate", "tls")]["data"]
    return {k: base64.b64decode(v) for k, v in data.items()}


def _bundles(api: FakeApi) -> set[str]:
    vwc = api.objects[(*VWC, "", "gate")]
    return {w["clientConfig"].get("caBundle", "") for w in vwc["webhooks"]}


def _material(current: Material | None, names: Sequence[str] = NAMES) -> Material | None:
    """:func:`ensure_material` with a 100-day CA and a 50-day certificate renewed 5 days
    before its end."""
    return ensure_material(
        current,
        common_name="ca",
        dns_names=names,
        now=NOW,
        ca_days=100,
        cert_days=50,
        renew_before=datetime.timedelta(days=5),
    )


def test_an_empty_secret_gets_a_ca_and_a_certificate_and_the_bundle_is_set(
    api: FakeApi, tmp_path: Path
) -> None:
    assert _keeper(api, tmp_path).ensure()
    stored = _secret(api)
    assert set(stored) == {"ca.crt", "ca.key", "tls.crt", "tls.key"}
    assert (tmp_path / "tls.crt").read_bytes() == stored["tls.crt"]
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    leaf = x509.load_pem_x509_certificate(stored["tls.crt"])
    (ca,) = x509.load_pem_x509_certificates(stored["ca.crt"])
    leaf.verify_directly_issued_by(ca)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == set(NAMES)
    assert _bundles(api) == {base64.b64encode(stored["ca.crt"]).decode()}


def test_a_second_replica_serves_the_same_certificate_and_writes_nothing(
    api: FakeApi, tmp_path: Path
) -> None:
    _keeper(api, tmp_path / "one").ensure()
    writes = len([c for c in api.calls if c[0] == "replace"])
    assert _keeper(api, tmp_path / "two").ensure()
    assert (tmp_path / "two" / "tls.crt").read_bytes() == (
        tmp_path / "one" / "tls.crt"
    ).read_bytes()
    assert len([c for c in api.calls if c[0] == "replace"]) == writes


def test_a_certificate_near_its_end_is_renewed_with_the_same_ca(
    api: FakeApi, tmp_path: Path
) -> None:
    _keeper(api, tmp_path).ensure()
    first = _secret(api)
    later = NOW + datetime.timedelta(days=340)  # 25 days before the 365-day certificate ends
    assert _keeper(api, tmp_path, later).ensure()
    renewed = _secret(api)
    assert renewed["tls.crt"] != first["tls.crt"]
    assert renewed["ca.crt"] == first["ca.crt"]
    assert (tmp_path / "tls.crt").read_bytes() == renewed["tls.crt"]


def test_a_ca_near_its_end_is_replaced_and_the_old_one_stays_trusted(
    api: FakeApi, tmp_path: Path
) -> None:
    _keeper(api, tmp_path).ensure()
    first = _secret(api)
    later = NOW + datetime.timedelta(days=1800)  # 25 days before the 1825-day CA ends
    assert _keeper(api, tmp_path, later).ensure()
    rotated = _secret(api)
    cas = x509.load_pem_x509_certificates(rotated["ca.crt"])
    assert len(cas) == 2
    assert cas[1] == x509.load_pem_x509_certificate(first["ca.crt"])
    x509.load_pem_x509_certificate(rotated["tls.crt"]).verify_directly_issued_by(cas[0])
    assert _bundles(api) == {base64.b64encode(rotated["ca.crt"]).decode()}
    # once the old CA has expired, it leaves the bundle at the next rotation
    much_later = NOW + datetime.timedelta(days=1800 + 1800)  # the first CA has expired
    assert _keeper(api, tmp_path, much_later).ensure()
    assert len(x509.load_pem_x509_certificates(_secret(api)["ca.crt"])) == 2
    assert x509.load_pem_x509_certificates(_secret(api)["ca.crt"])[1] == cas[0]


def test_a_configuration_reapplied_without_the_bundle_gets_it_back(
    api: FakeApi, tmp_path: Path
) -> None:
    keeper = _keeper(api, tmp_path)
    keeper.ensure()
    vwc = api.objects[(*VWC, "", "gate")]
    for webhook in vwc["webhooks"]:
        webhook["clientConfig"].pop("caBundle")
    api.put(*VWC, vwc)  # as a GitOps sync would
    assert keeper.ensure()
    assert "" not in _bundles(api)


def test_a_lost_race_takes_the_winners_certificate_on_the_next_pass(
    api: FakeApi, tmp_path: Path
) -> None:
    winner, loser = _keeper(api, tmp_path / "w"), _keeper(api, tmp_path / "l")
    secret = api.get("v1", "secrets", "gate", "tls")
    winner.ensure()
    original_get = api.get

    def stale_get(api_version: str, plural: str, namespace: str, name: str):  # type: ignore[no-untyped-def]
        return secret if plural == "secrets" else original_get(api_version, plural, namespace, name)

    api.get = stale_get  # type: ignore[method-assign]
    assert loser.ensure() is False  # its write met a 409
    api.get = original_get  # type: ignore[method-assign]
    assert loser.ensure()
    assert (tmp_path / "l" / "tls.crt").read_bytes() == (tmp_path / "w" / "tls.crt").read_bytes()


def test_a_missing_secret_is_a_clear_error(tmp_path: Path) -> None:
    api = FakeApi()
    with pytest.raises(KubeError, match="gate/tls does not exist"):
        _keeper(api, tmp_path).ensure()


def test_material_for_other_names_is_reissued() -> None:
    first = _material(None)
    assert first is not None
    same = _material(first)
    assert same is None
    other = _material(first, ("other.gate.svc",))
    assert other is not None
    assert other.ca_bundle == first.ca_bundle
    assert other.cert != first.cert


def test_an_address_becomes_an_ip_san_and_stays_valid() -> None:
    names = ("127.0.0.1", "localhost")
    first = _material(None, names)
    assert first is not None
    leaf = x509.load_pem_x509_certificate(first.cert)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    again = _material(first, names)
    assert again is None

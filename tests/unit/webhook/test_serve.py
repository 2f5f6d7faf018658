"""The serve entry point's refusals, the dev certificates and the server settings."""

from __future__ import annotations

import ipaddress
import ssl
from argparse import Namespace
from pathlib import Path

import pytest
from cryptography import x509

from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import CredentialStore
from slimgate.registry.options import RegistryOptions
from slimgate.runtime.certificates import CertificateStore
from slimgate.runtime.devcert import write_dev_certificates
from slimgate.webhook.connections import BoundedHttpProtocol
from slimgate.webhook.serve import WebhookConfig, certificate_context, run, server_config
from tests.support.fakes import FakeSource


def args(**kw: object) -> Namespace:
    base = {"config": None, "host": None, "port": None, "tls_cert": None, "tls_key": None}
    extra = {"dev": False, "workers": None, "threads": None}
    return Namespace(**{**base, **extra, "header_timeout": None, "max_connections": None, **kw})


def test_serving_without_tls_files_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(args()) == 2
    assert "--tls-cert and --tls-key are required" in capsys.readouterr().err


def test_an_invalid_configuration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("policy: {mode: sideways}\n")
    assert run(args(config=str(config))) == 2
    assert "config.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("header_timeout", 0.0, "--header-timeout must be above 0"),
        ("header_timeout", 301.0, "--header-timeout must be above 0"),
        ("max_connections", 0, "--max-connections must be at least 1"),
    ],
)
def test_limits_out_of_range_are_refused(
    option: str, value: float, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(args(**{option: value}, dev=True)) == 2
    assert message in capsys.readouterr().err


def test_dev_certificates_chain_to_their_ca(tmp_path: Path) -> None:
    certs = write_dev_certificates(tmp_path)
    leaf = x509.load_pem_x509_certificate(certs.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert certs.key.stat().st_mode & 0o077 == 0
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)  # the key matches the certificate


def test_uvicorn_serves_the_bounded_protocol_and_keeps_connections_alive() -> None:
    config = server_config("127.0.0.1", 8443, "c", "k", workers=2, header_timeout=3.0)
    assert config.http is BoundedHttpProtocol
    assert config.loop == "slimgate.webhook.connections:new_event_loop"
    assert config.lifespan == "on"
    assert config.workers == 2
    assert config.timeout_keep_alive >= 60
    assert config.header_timeout == 3.0
    assert config.max_connections == 1000
    assert config.timeout_graceful_shutdown is not None
    assert (config.ssl_certfile, config.ssl_keyfile) == ("c", "k")


def test_the_server_settings_survive_the_trip_to_a_worker_process(tmp_path: Path) -> None:
    import pickle

    certs = write_dev_certificates(tmp_path)
    config = server_config("127.0.0.1", 8443, str(certs.cert), str(certs.key), threads=3)
    certificate_context(config, ssl.create_default_context)  # as the first worker would
    assert config.certificates is not None
    copy = pickle.loads(pickle.dumps(config))  # noqa: S301 - our own object
    assert isinstance(copy, WebhookConfig)
    assert copy.certificates is None  # each process makes its own store
    assert (copy.review_threads, copy.max_connections) == (3, 1000)


def _fake_registry(
    options: RegistryOptions, credentials: CredentialStore | None, observer: RegistryObserver | None
) -> FakeSource:
    return FakeSource()


def test_the_registry_factory_given_to_serve_reaches_each_worker() -> None:
    import pickle

    from slimgate.wiring import registry_client

    assert server_config("127.0.0.1", 8443, "c", "k").registry is registry_client
    config = server_config("127.0.0.1", 8443, "c", "k", registry=_fake_registry)
    copy = pickle.loads(pickle.dumps(config))  # noqa: S301 - our own object
    assert copy.registry is _fake_registry


def test_a_key_that_does_not_match_the_certificate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_dev_certificates(tmp_path / "a")
    other = write_dev_certificates(tmp_path / "b")
    assert run(args(tls_cert=str(first.cert), tls_key=str(other.key))) == 2
    assert "certificate and key do not load" in capsys.readouterr().err


def test_uvicorn_takes_its_tls_context_from_a_certificate_store(tmp_path: Path) -> None:
    certs = write_dev_certificates(tmp_path)
    config = server_config("127.0.0.1", 8443, str(certs.cert), str(certs.key))
    context = certificate_context(config, ssl.create_default_context)
    assert isinstance(config.certificates, CertificateStore)
    assert context is config.certificates.context()
    assert context.sni_callback is not None  # renewed pairs are switched in per handshake

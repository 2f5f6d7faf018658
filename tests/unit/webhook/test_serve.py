"""The serve entry point's refusals, the dev certificates and the gunicorn settings."""

from __future__ import annotations

import ipaddress
import ssl
from argparse import Namespace
from pathlib import Path

import pytest
from cryptography import x509

from slimgate.webhook.certificates import CertificateStore
from slimgate.webhook.devcert import write_dev_certificates
from slimgate.webhook.serve import gunicorn_options, run


def args(**kw: object) -> Namespace:
    base = {"config": None, "host": None, "port": None, "tls_cert": None, "tls_key": None}
    return Namespace(**{**base, "dev": False, "workers": None, "threads": None, **kw})


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


def test_gunicorn_serves_with_its_asgi_worker_and_keeps_connections_alive() -> None:
    options = gunicorn_options("127.0.0.1:8443", "c", "k", workers=2)
    assert options["worker_class"] == "asgi"
    assert options["asgi_loop"] == "uvloop"
    assert options["asgi_lifespan"] == "on"
    assert options["workers"] == 2
    assert options["keepalive"] >= 60
    assert options["preload_app"] is False
    assert options["certfile"] == "c"


def test_a_key_that_does_not_match_the_certificate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_dev_certificates(tmp_path / "a")
    other = write_dev_certificates(tmp_path / "b")
    assert run(args(tls_cert=str(first.cert), tls_key=str(other.key))) == 2
    assert "certificate and key do not load" in capsys.readouterr().err


def test_gunicorn_takes_its_tls_context_from_the_certificate_store(tmp_path: Path) -> None:
    certs = write_dev_certificates(tmp_path)
    store = CertificateStore(certs.cert, certs.key)
    options = gunicorn_options("127.0.0.1:8443", "c", "k", certificates=store)
    assert options["ssl_context"](None, None) is store.context()

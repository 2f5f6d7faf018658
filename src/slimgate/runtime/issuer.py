"""A CA and serving certificates for the webhook's self-managed TLS mode.

The same facts the established admission controllers use, in our own code: a CA and a
serving certificate signed by it (Gatekeeper's cert-controller: one Secret with ``ca.crt``,
``ca.key``, ``tls.crt``, ``tls.key``; Kyverno: renew some days before expiry, keep the old
CA in the bundle while it is still valid so that replicas still serving a certificate of the
old CA stay trusted during a rotation). Keys are ECDSA P-256.

Everything here is pure: a ``now`` is passed in, nothing is read or written.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from slimgate.errors import CertificateError

BACKDATE = datetime.timedelta(hours=1)  # tolerate clocks a little behind ours


@dataclass(frozen=True, slots=True)
class Material:
    """PEM bytes of one Secret: the CA bundle (newest first), the CA key, the pair served."""

    ca_bundle: bytes
    ca_key: bytes
    cert: bytes
    key: bytes


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "slimgate"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def new_ca(common_name: str, now: datetime.datetime, days: int) -> tuple[bytes, bytes]:
    """A self-signed CA: (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def new_serving(
    ca_cert: bytes, ca_key: bytes, dns_names: Sequence[str], now: datetime.datetime, days: int
) -> tuple[bytes, bytes]:
    """A serving certificate for ``dns_names`` signed by the CA: (certificate PEM, key PEM)."""
    issuer = x509.load_pem_x509_certificate(ca_cert)
    signer = serialization.load_pem_private_key(ca_key, password=None)
    if not isinstance(signer, ec.EllipticCurvePrivateKey):
        raise CertificateError("the CA key is not an ECDSA key")
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + datetime.timedelta(days=days), issuer.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(_alt_names(dns_names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _alt_names(names: Sequence[str]) -> list[x509.GeneralName]:
    """DNS names, and addresses as IP SANs (a webhook called at an address, in tests)."""
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _normal(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _san_values(leaf: x509.Certificate) -> set[str]:
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    addresses = {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    return set(names.get_values_for_type(x509.DNSName)) | addresses


def _certificates(bundle: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(bundle) if bundle.strip() else []
    except ValueError as exc:
        raise CertificateError(f"not a PEM certificate bundle: {exc}") from exc


def _fresh(
    cert: x509.Certificate, now: datetime.datetime, renew_before: datetime.timedelta
) -> bool:
    return cert.not_valid_before_utc <= now and now + renew_before < cert.not_valid_after_utc


def _valid(
    material: Material,
    dns_names: Sequence[str],
    now: datetime.datetime,
    renew_before: datetime.timedelta,
) -> tuple[bool, bool]:
    """(the newest CA is usable, the serving pair is usable)."""
    try:
        cas = _certificates(material.ca_bundle)
        ca_key = serialization.load_pem_private_key(material.ca_key, password=None)
        leaf = x509.load_pem_x509_certificate(material.cert)
        key = serialization.load_pem_private_key(material.key, password=None)
    except (ValueError, TypeError, CertificateError):
        return False, False
    if not cas or cas[0].public_key() != ca_key.public_key():
        return False, False
    ca_ok = _fresh(cas[0], now, renew_before)
    try:
        leaf.verify_directly_issued_by(cas[0])
    except (ValueError, TypeError, InvalidSignature):
        return ca_ok, False
    try:
        names = _san_values(leaf)
    except x509.ExtensionNotFound:
        return ca_ok, False
    leaf_ok = (
        leaf.public_key() == key.public_key()
        and names == {_normal(n) for n in dns_names}
        and _fresh(leaf, now, renew_before)
    )
    return ca_ok, leaf_ok


def ensure_material(
    current: Material | None,
    *,
    common_name: str,
    dns_names: Sequence[str],
    now: datetime.datetime,
    ca_days: int,
    cert_days: int,
    renew_before: datetime.timedelta,
) -> Material | None:
    """New material when ``current`` is missing, broken, for other names or due for renewal;
    ``None`` when it is good as it is.

    A CA due for renewal is replaced and the old one stays in the bundle, after the new one,
    until it expires; expired CAs leave the bundle.
    """
    ca_ok, leaf_ok = _valid(current, dns_names, now, renew_before) if current else (False, False)
    if ca_ok and leaf_ok:
        return None
    if ca_ok and current is not None:
        ca_bundle, ca_key = current.ca_bundle, current.ca_key
        newest = _certificates(ca_bundle)[0].public_bytes(serialization.Encoding.PEM)
        cert, key = new_serving(newest, ca_key, dns_names, now, cert_days)
        return Material(ca_bundle, ca_key, cert, key)
    ca_cert, ca_key = new_ca(common_name, now, ca_days)
    kept: list[bytes] = []
    if current is not None:
        try:
            previous = _certificates(current.ca_bundle)
        except CertificateError:
            previous = []
        kept = [
            c.public_bytes(serialization.Encoding.PEM)
            for c in previous
            if c.not_valid_after_utc > now
        ]
    cert, key = new_serving(ca_cert, ca_key, dns_names, now, cert_days)
    return Material(b"".join([ca_cert, *kept]), ca_key, cert, key)

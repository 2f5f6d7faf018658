"""A throwaway CA and server certificate for ``slimgate serve --dev``.

The apiserver only talks to webhooks over TLS, so even local development serves HTTPS: a
self-signed CA (so ``curl --cacert`` verifies properly) and a leaf certificate for
``localhost``/``127.0.0.1``, issued by :mod:`slimgate.runtime.issuer` (the same CA and
serving certificates as the self-managed TLS mode) into a fresh temporary folder.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from slimgate.runtime.issuer import new_ca, new_serving

DAYS = 7


@dataclass(frozen=True, slots=True)
class DevCertificates:
    ca: Path
    cert: Path
    key: Path


def write_dev_certificates(
    folder: Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> DevCertificates:
    """Create ``ca.pem``, ``tls.crt`` and ``tls.key`` (mode 0600) in ``folder``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_cert, ca_key = new_ca("slimgate development CA", now, DAYS)
    cert, key = new_serving(ca_cert, ca_key, hosts, now, DAYS)
    paths = DevCertificates(folder / "ca.pem", folder / "tls.crt", folder / "tls.key")
    paths.ca.write_bytes(ca_cert)
    paths.cert.write_bytes(cert)
    paths.key.touch(mode=0o600)
    paths.key.write_bytes(key)
    return paths

"""The pods' checksum annotations stay strings whatever digits the checksum happens to have.

A checksum is the first 16 hex digits of a SHA-256. About one in 1,850 is all decimal
digits (and a few more look like a YAML float), and unquoted it then renders as a number,
which the API server refuses in an annotation: ``helm upgrade`` failed that way once
in the tests, with a randomly generated CA. The values below are found by search so that
the TLS checksum is all digits.
"""

from __future__ import annotations

import base64
import hashlib

from tests.support.chart import Helm

BUNDLE = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
).decode()


def digits_only_secret_name() -> tuple[str, str]:
    """A Secret name for which the webhook's checksum/tls is 16 decimal digits."""
    for n in range(1_000_000):
        name = f"webhook-tls-{n}"
        # the input the webhook Deployment hashes in tls.mode=secret: mode/name/caBundle
        checksum = hashlib.sha256(f"secret/{name}/{BUNDLE}".encode()).hexdigest()[:16]
        if checksum.isdigit():
            return name, checksum
    raise AssertionError("no digits-only checksum in a million names")


def test_an_all_digit_checksum_is_still_a_string(helm: Helm) -> None:
    name, checksum = digits_only_secret_name()
    rendering = helm.template(
        values={"tls.mode": "secret", "tls.secret.name": name, "tls.secret.caBundle": BUNDLE}
    )
    webhook = next(
        d
        for d in rendering.all("Deployment")
        if d["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/tls") is not None
    )
    annotations = webhook["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/tls"] == checksum
    for deployment in rendering.all("Deployment"):
        for key, value in deployment["spec"]["template"]["metadata"].get("annotations", {}).items():
            assert isinstance(value, str), (deployment["metadata"]["name"], key, value)

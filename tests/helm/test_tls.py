"""The webhook's serving certificate in each tls.mode, checked with real X.509 parsing.

In helm mode the certificate is generated at render time, so the test parses
it and verifies it the way the API server will: signed by the CA in the
webhook configuration's caBundle, valid for the Service's DNS names.
"""

from __future__ import annotations

import base64
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.support.chart import CHART, Helm, Manifest, Rendering, pod_spec

SECRET_MODE_VALUES = CHART / "ci" / "tls-secret-values.yaml"


def b64_pem(value: str) -> bytes:
    return base64.b64decode(value)


def verify_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """Raise unless ``issuer``'s key signed ``cert``."""
    public_key = issuer.public_key()
    assert cert.signature_hash_algorithm is not None
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    else:  # pragma: no cover - genCA makes RSA keys
        raise AssertionError(f"unexpected CA key type {type(public_key)}")


def webhook_volume_secret(rendering: Rendering) -> str:
    deployment = rendering.one("Deployment", f"{rendering.fullname}-webhook")
    volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
    secret_name: str = volumes["tls"]["secret"]["secretName"]
    return secret_name


def client_config(rendering: Rendering) -> Manifest:
    config: Manifest = rendering.one("ValidatingWebhookConfiguration")["webhooks"][0][
        "clientConfig"
    ]
    return config


def test_helm_mode_certificate_is_signed_by_the_ca_bundle_and_names_the_service(
    helm: Helm,
) -> None:
    rendering = helm.template(release="gate", namespace="tools")
    secret = rendering.one("Secret")
    assert secret["type"] == "kubernetes.io/tls"
    assert webhook_volume_secret(rendering) == secret["metadata"]["name"]

    ca_bundle = client_config(rendering)["caBundle"]
    # The Secret and the webhook configuration are rendered from different
    # templates; they must still carry the same generated CA.
    assert ca_bundle == secret["data"]["ca.crt"]

    ca = x509.load_pem_x509_certificate(b64_pem(ca_bundle))
    cert = x509.load_pem_x509_certificate(b64_pem(secret["data"]["tls.crt"]))
    key = serialization.load_pem_private_key(b64_pem(secret["data"]["tls.key"]), password=None)

    verify_signed_by(cert, ca)
    assert cert.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]

    service = rendering.one("Service")["metadata"]["name"]
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) >= {
        f"{service}.tools.svc",
        f"{service}.tools.svc.cluster.local",
        f"{service}.tools",
        service,
    }
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usages

    now = datetime.datetime.now(datetime.UTC)
    assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - now > datetime.timedelta(days=3000)  # validityDays 3650


def test_helm_mode_validity_is_configurable(helm: Helm) -> None:
    rendering = helm.template(values={"tls.helm.validityDays": 30})
    cert = x509.load_pem_x509_certificate(b64_pem(rendering.one("Secret")["data"]["tls.crt"]))
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert datetime.timedelta(days=29) < lifetime <= datetime.timedelta(days=31)


def test_helm_mode_reuses_an_existing_secret_through_lookup(helm: Helm) -> None:
    """Without a cluster `lookup` finds nothing; the template must still look.

    The reuse itself (stable caBundle across `helm upgrade`) needs an API
    server; here we check the template asks for the Secret the Deployment
    mounts, so an upgrade finds the certificate it installed.
    """
    helpers = (helm.chart / "templates" / "_helpers.tpl").read_text()
    assert 'lookup "v1" "Secret" .Release.Namespace $secretName' in helpers
    rendering = helm.template()
    assert webhook_volume_secret(rendering) == rendering.one("Secret")["metadata"]["name"]


def test_cert_manager_mode_builds_a_ca_chain_and_injects_it(helm: Helm) -> None:
    rendering = helm.template(release="gate", namespace="tools", values={"tls.mode": "certManager"})
    assert rendering.all("Secret") == []
    vwc = rendering.one("ValidatingWebhookConfiguration")
    assert "caBundle" not in client_config(rendering)

    issuers = {i["metadata"]["name"]: i["spec"] for i in rendering.all("Issuer")}
    certificates = {c["metadata"]["name"]: c["spec"] for c in rendering.all("Certificate")}
    selfsigned = [name for name, spec in issuers.items() if "selfSigned" in spec]
    ca_issuers = [name for name, spec in issuers.items() if "ca" in spec]
    assert len(selfsigned) == 1
    assert len(ca_issuers) == 1

    ca_certs = [name for name, spec in certificates.items() if spec.get("isCA")]
    assert len(ca_certs) == 1
    ca_cert = certificates[ca_certs[0]]
    assert ca_cert["issuerRef"]["name"] == selfsigned[0]
    assert issuers[ca_issuers[0]]["ca"]["secretName"] == ca_cert["secretName"]

    serving_name = next(name for name, spec in certificates.items() if not spec.get("isCA"))
    serving = certificates[serving_name]
    assert serving["issuerRef"]["name"] == ca_issuers[0]
    assert serving["secretName"] == webhook_volume_secret(rendering)
    service = rendering.one("Service")["metadata"]["name"]
    assert f"{service}.tools.svc" in serving["dnsNames"]
    assert vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        f"tools/{serving_name}"
    )


def test_cert_manager_mode_can_use_an_existing_issuer(helm: Helm) -> None:
    issuer = {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    rendering = helm.template(
        values={"tls.mode": "certManager", "tls.certManager.issuerRef": issuer}
    )
    assert rendering.all("Issuer") == []
    (certificate,) = rendering.all("Certificate")
    assert certificate["spec"]["issuerRef"] == issuer


def test_secret_mode_uses_the_named_secret_and_the_given_ca_bundle(helm: Helm) -> None:
    rendering = helm.template(values_files=[SECRET_MODE_VALUES])
    assert rendering.all("Secret") == []
    assert rendering.all("Certificate") == []
    assert webhook_volume_secret(rendering) == "slimgate-serving-cert"
    bundle = client_config(rendering)["caBundle"]
    x509.load_pem_x509_certificate(b64_pem(bundle))  # a real certificate, passed through
    assert "cert-manager.io/inject-ca-from" not in (
        rendering.one("ValidatingWebhookConfiguration")["metadata"].get("annotations") or {}
    )


def test_secret_mode_refuses_a_ca_bundle_that_is_not_base64_pem(helm: Helm) -> None:
    error = helm.template_error(
        values={
            "tls.mode": "secret",
            "tls.secret": {"name": "mine", "caBundle": base64.b64encode(b"not a cert").decode()},
        }
    )
    assert "tls.secret.caBundle must be the base64 encoding of a PEM certificate bundle" in error


def test_secret_mode_requires_name_and_ca_bundle(helm: Helm) -> None:
    error = helm.template_error(values={"tls.mode": "secret"})
    assert "/tls/secret/name" in error
    assert "/tls/secret/caBundle" in error


def test_self_managed_mode_renders_the_same_every_time_and_no_certificate(helm: Helm) -> None:
    """The GitOps mode: two client-side renders are identical (no CA generated)."""
    values = {"tls.mode": "selfManaged"}
    first = helm.template(values=values)
    assert helm.template(values=values).manifests == first.manifests
    secret = first.one("Secret", "slimgate-webhook-tls")
    assert secret["type"] == "Opaque"
    assert "data" not in secret
    (webhook,) = first.one("ValidatingWebhookConfiguration")["webhooks"]
    assert "caBundle" not in webhook["clientConfig"]
    deployment = first.one("Deployment", "slimgate-webhook")
    spec = pod_spec(deployment)
    assert spec["automountServiceAccountToken"] is True
    assert "tls" not in {v["name"] for v in spec["volumes"]}
    args = spec["containers"][0]["args"]
    assert args[args.index("--tls-secret") + 1] == "slimgate/slimgate-webhook-tls"
    assert args[args.index("--webhook-configuration") + 1] == "slimgate"
    names = [args[i + 1] for i, a in enumerate(args) if a == "--tls-dns-name"]
    assert "slimgate-webhook.slimgate.svc" in names
    # get and update on that Secret and that configuration, by name, and nothing else
    rules = [
        (rule, m["kind"])
        for m in first.manifests
        if m["kind"] in ("Role", "ClusterRole")
        and m["metadata"]["labels"]["app.kubernetes.io/component"] == "webhook"
        for rule in m["rules"]
    ]
    assert sorted((r["resources"][0], r["resourceNames"][0], k) for r, k in rules) == [
        ("secrets", "slimgate-webhook-tls", "Role"),
        ("validatingwebhookconfigurations", "slimgate", "ClusterRole"),
    ]
    assert all(r["verbs"] == ["get", "update"] for r, _ in rules)


def test_helm_mode_renders_a_new_ca_each_time_without_a_cluster(helm: Helm) -> None:
    """Why selfManaged exists: helm mode generates at render time."""
    first = helm.template().one("ValidatingWebhookConfiguration")["webhooks"][0]
    second = helm.template().one("ValidatingWebhookConfiguration")["webhooks"][0]
    assert first["clientConfig"]["caBundle"] != second["clientConfig"]["caBundle"]

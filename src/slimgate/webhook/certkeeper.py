"""The webhook's self-managed TLS mode: it keeps its own CA and certificate, and the caBundle.

For GitOps: the chart renders an empty Secret and a ValidatingWebhookConfiguration without
a caBundle, so ``helm template`` renders the same manifests every time (no CA generated at
render time). The webhook then:

1. reads the Secret (``ca.crt``, ``ca.key``, ``tls.crt``, ``tls.key``); if it is empty,
   broken, for other DNS names or due for renewal, issues new material
   (:func:`slimgate.runtime.issuer.ensure_material`) and writes it back with the
   resourceVersion it read, so that of several replicas racing, one wins and the others
   take its certificate on their next read (a 409 is not an error);
2. writes ``tls.crt`` and ``tls.key`` to a local directory the server reads, and which the
   server reloads when they change (:class:`slimgate.runtime.certificates.CertificateStore`);
3. sets every webhook's ``clientConfig.caBundle`` in the ValidatingWebhookConfiguration to
   the Secret's CA bundle when it differs, which also repairs a configuration that a GitOps
   tool re-applied without one.

It does this once before the server starts (within a deadline) and then every
``check_seconds`` in a thread. RBAC: ``get`` and ``update`` on that one Secret and that one
ValidatingWebhookConfiguration (``resourceNames``), nothing else.
"""

from __future__ import annotations

import base64
import datetime
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slimgate.cluster.api import Api, Json
from slimgate.errors import KubeError, SlimgateError
from slimgate.runtime.issuer import Material, ensure_material

log = logging.getLogger(__name__)

SECRET_KEYS = ("ca.crt", "ca.key", "tls.crt", "tls.key")
VWC = ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations")


@dataclass(frozen=True, slots=True)
class KeeperSettings:
    namespace: str
    secret: str
    webhook_configuration: str
    dns_names: tuple[str, ...]
    directory: Path
    ca_days: int = 1825
    cert_days: int = 365
    renew_before: datetime.timedelta = datetime.timedelta(days=30)
    check_seconds: float = 60.0

    @property
    def cert_path(self) -> Path:
        return self.directory / "tls.crt"

    @property
    def key_path(self) -> Path:
        return self.directory / "tls.key"


def _material(secret: Json) -> Material | None:
    data = secret.get("data") or {}
    if not all(data.get(k) for k in SECRET_KEYS):
        return None
    try:
        ca, ca_key, cert, key = (base64.b64decode(data[k], validate=True) for k in SECRET_KEYS)
    except ValueError:
        return None
    return Material(ca, ca_key, cert, key)


def _encode(material: Material) -> dict[str, str]:
    values = (material.ca_bundle, material.ca_key, material.cert, material.key)
    return {k: base64.b64encode(v).decode() for k, v in zip(SECRET_KEYS, values, strict=True)}


def _write_if_changed(path: Path, content: bytes, mode: int) -> None:
    if path.exists() and path.read_bytes() == content:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.touch(mode=mode)
    tmp.write_bytes(content)
    os.replace(tmp, path)


class CertificateKeeper:
    def __init__(
        self,
        api: Api,
        settings: KeeperSettings,
        now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.api = api
        self.settings = settings
        self._now = now

    def ensure(self) -> bool:
        """One pass; True when the files hold a certificate of the Secret and the caBundle
        is set. KubeError when the API cannot be read or written."""
        s = self.settings
        secret = self.api.get("v1", "secrets", s.namespace, s.secret)
        if secret is None:
            raise KubeError(f"Secret {s.namespace}/{s.secret} does not exist", 404)
        current = _material(secret)
        renewed = ensure_material(
            current,
            common_name=f"{s.webhook_configuration} CA",
            dns_names=s.dns_names,
            now=self._now(),
            ca_days=s.ca_days,
            cert_days=s.cert_days,
            renew_before=s.renew_before,
        )
        if renewed is not None:
            body: dict[str, Any] = dict(secret)
            body["data"] = {**(secret.get("data") or {}), **_encode(renewed)}
            try:
                self.api.replace("v1", "secrets", s.namespace, s.secret, body)
            except KubeError as exc:
                if exc.status != 409:
                    raise
                log.info("another replica renewed the webhook certificate first; reading it")
                return False
            log.info(
                "issued a webhook certificate for %s",
                ", ".join(s.dns_names),
                extra={"new_ca": current is None or renewed.ca_key != current.ca_key},
            )
            current = renewed
        assert current is not None
        s.directory.mkdir(parents=True, exist_ok=True)
        # the key first: the server reloads when the certificate changes
        _write_if_changed(s.key_path, current.key, 0o600)
        _write_if_changed(s.cert_path, current.cert, 0o644)
        return self._inject(base64.b64encode(current.ca_bundle).decode())

    def _inject(self, bundle: str) -> bool:
        s = self.settings
        vwc = self.api.get(*VWC, "", s.webhook_configuration)
        if vwc is None:
            raise KubeError(
                f"ValidatingWebhookConfiguration {s.webhook_configuration} does not exist", 404
            )
        webhooks = vwc.get("webhooks") or []
        stale = [w for w in webhooks if (w.get("clientConfig") or {}).get("caBundle") != bundle]
        if not stale:
            return True
        for webhook in stale:
            webhook.setdefault("clientConfig", {})["caBundle"] = bundle
        try:
            self.api.replace(*VWC, "", s.webhook_configuration, vwc)
        except KubeError as exc:
            if exc.status != 409:
                raise
            return False
        log.info("set the caBundle of %d webhook(s) in %s", len(stale), s.webhook_configuration)
        return True

    def ensure_within(self, deadline: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Passes until one succeeds, for at most ``deadline`` seconds (the server's start)."""
        end = time.monotonic() + deadline
        while True:
            problem = "a conflicting update"
            try:
                if self.ensure():
                    return
            except KubeError as exc:
                problem = str(exc)
            if time.monotonic() >= end:
                raise SlimgateError(f"cannot set up the webhook's own certificate: {problem}")
            sleep(1.0)

    def run(self, stop: threading.Event) -> None:
        """Keep the certificate and the caBundle current until ``stop`` is set."""
        while not stop.wait(self.settings.check_seconds):
            try:
                self.ensure()
            except (KubeError, SlimgateError) as exc:
                log.warning("cannot check the webhook certificate: %s", exc)


def parse_names(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))

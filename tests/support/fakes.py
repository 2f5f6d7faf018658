"""Fakes at our own seams, one of each, for the unit tests.

- :class:`FakeSource`: an ``ImageSource`` (and the registry client's ``with_credentials`` /
  ``close``), images by reference or by (reference, platform), others made by ``otherwise``
  if given; an exception stands for the registry's answer. Calls are recorded; an optional
  gate holds the fetches of ``held`` references (of every reference when ``held`` is None)
  until it is set.
- :class:`FakeSecrets`: a ``SecretSource`` of pull secrets for the namespace ``shop``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from slimgate.cluster.pullsecrets import DOCKERCONFIGJSON
from slimgate.errors import NotFound, SecretUnreadable
from slimgate.model import ImageMetadata, Platform
from slimgate.registry.credentials import CredentialStore

Images = Mapping[str | tuple[str, Platform], ImageMetadata | BaseException]


class FakeSource:
    """Images by reference, or by (reference, platform) first; anything else is made by
    ``otherwise``, or is NotFound."""

    def __init__(
        self,
        images: Images | None = None,
        *,
        gate: threading.Event | None = None,
        held: Collection[str] | None = None,
        credentials: CredentialStore | None = None,
        otherwise: Callable[[str, Platform], ImageMetadata] | None = None,
    ) -> None:
        self.images: dict[str | tuple[str, Platform], ImageMetadata | BaseException] = dict(
            images or {}
        )
        self.gate = gate
        self.held = held
        self.credentials = credentials  # the store of a with_credentials() view
        self.otherwise = otherwise
        self.calls: list[tuple[str, Platform]] = []
        self.views: list[FakeSource] = []
        self.closed = False
        self._lock = threading.Lock()

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        with self._lock:
            self.calls.append((reference, platform))
        if self.gate is not None and (self.held is None or reference in self.held):
            self.gate.wait(30)
        found = self.images.get((reference, platform))
        if found is not None and not isinstance(found, BaseException):
            return replace(found, reference=reference, platform=platform)
        if found is None:
            found = self.images.get(reference)
        if found is None and self.otherwise is not None:
            return self.otherwise(reference, platform)
        if found is None:
            raise NotFound(f"{reference}: not found")
        if isinstance(found, BaseException):
            raise found
        return replace(found, reference=reference)

    def with_credentials(self, credentials: CredentialStore) -> FakeSource:
        """A view that reads the same images, recording the store it was given."""
        view = FakeSource(
            self.images,
            gate=self.gate,
            held=self.held,
            credentials=credentials,
            otherwise=self.otherwise,
        )
        self.views.append(view)
        return view

    def close(self) -> None:
        self.closed = True


def dockerconfig(host: str, user: str, password: str) -> str:
    """A ``.dockerconfigjson`` value as a Secret's ``data`` holds it (base64)."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    document = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    return base64.b64encode(document).decode()


class FakeSecrets:
    """Pull secrets in ``shop``: ``pod-cred`` (registry.example), ``sa-cred`` (of the
    ServiceAccount ``builder``, other.example:5000), an Opaque one; the rest are missing."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
            ("shop", "pod-cred"): (
                DOCKERCONFIGJSON,
                {".dockerconfigjson": dockerconfig("registry.example", "pod", "p1")},
            ),
            ("shop", "sa-cred"): (
                DOCKERCONFIGJSON,
                {".dockerconfigjson": dockerconfig("other.example:5000", "sa", "p2")},
            ),
            ("shop", "opaque"): ("Opaque", {"token": "c2VjcmV0"}),
        }
        self.accounts = {("shop", "builder"): ("sa-cred", "missing", "opaque")}
        self.reads = 0

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        self.reads += 1
        try:
            return self.secrets[(namespace, name)]
        except KeyError:
            raise SecretUnreadable(f"cannot read secret {namespace}/{name}: 404") from None

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        self.reads += 1
        return self.accounts.get((namespace, name), ())

"""The credential programs of one registry client: helpers and provider plugins together.

:class:`CredentialPrograms` is the bottom layer of the client's
:class:`~slimgate.registry.credentials.CredentialStore`: it is asked only when neither the
pod's pull secrets nor the static credentials have an entry for the host. For an image
``host/repository`` it asks, in this order, and takes the first credential:

1. the Docker credential helper named for exactly ``host`` in ``credHelpers``;
2. each kubelet credential-provider plugin whose ``matchImages`` match the image, in the
   order of the ``CredentialProviderConfig``;
3. the ``credsStore`` helper of the dockerconfigjson.

Every program gets the same environment: the variables of slimgate's own environment that
the configuration names (``registry.credentialPlugins.inheritEnv``), and for a plugin the
``env`` of its provider entry on top; nothing else is passed on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slimgate.registry.credential_helpers import CredentialHelper, HelperSpec
from slimgate.registry.credentials import Credential
from slimgate.registry.limits import Deadline
from slimgate.registry.providers import CredentialProvider, ProviderSpec

HELPER_PREFIX = "docker-credential-"


@dataclass(frozen=True, slots=True)
class ProgramSettings:
    """``registry.credentialPlugins``: the plugins read from the provider configuration, the
    absolute directory of the programs, the inherited variables and the limits."""

    providers: tuple[ProviderSpec, ...] = ()
    bin_dir: str | None = None
    inherit_env: tuple[str, ...] = ()
    timeout_seconds: float = 10.0
    helper_cache_seconds: float = 300.0

    def helper(self, name: str) -> HelperSpec | None:
        """The helper ``docker-credential-<name>`` in the binary directory (None: no dir)."""
        if self.bin_dir is None:
            return None
        return HelperSpec(name, os.path.join(self.bin_dir, HELPER_PREFIX + name))


Report = Callable[[str, str], None]
CacheHit = Callable[[str, bool], None]


class CredentialPrograms:
    """Credential helpers by host, provider plugins by image, and the fallback store."""

    def __init__(
        self,
        settings: ProgramSettings,
        *,
        cred_helpers: Mapping[str, str],
        creds_store: str | None,
        report: Report,
        cache_hit: CacheHit,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        source = os.environ if environ is None else environ  # the process's own by default
        env = {name: source[name] for name in settings.inherit_env if name in source}
        timeout = settings.timeout_seconds

        def helper(name: str) -> CredentialHelper:
            spec = settings.helper(name)
            if spec is None:
                raise ValueError("credential helpers need registry.credentialPlugins.binDir")
            return CredentialHelper(
                spec,
                env=env,
                timeout=timeout,
                cache_seconds=settings.helper_cache_seconds,
                report=report,
                cache_hit=lambda hit: cache_hit("credential-helper", hit),
            )

        made: dict[str, CredentialHelper] = {}  # one program, one cache, however many hosts
        for name in [*cred_helpers.values(), *([creds_store] if creds_store else [])]:
            if name not in made:
                made[name] = helper(name)
        self._helpers = {host: made[name] for host, name in cred_helpers.items()}
        self._store = made[creds_store] if creds_store else None
        self._providers = tuple(
            CredentialProvider(
                spec,
                env=env,
                timeout=timeout,
                report=report,
                cache_hit=lambda hit: cache_hit("credential-provider", hit),
            )
            for spec in settings.providers
        )

    def __bool__(self) -> bool:
        return bool(self._helpers or self._store or self._providers)

    def source_of(self, host: str, repository: str) -> str | None:
        """Which programs would be asked about the image (no program is run), or None."""
        image = f"{host}/{repository}"
        names = []
        if host in self._helpers:
            names.append(self._helpers[host].label)
        names.extend(p.name for p in self._providers if p.matches(image))
        if self._store is not None:
            names.append(self._store.label)
        return ",".join(names) or None

    def credential(self, host: str, repository: str, deadline: Deadline) -> Credential | None:
        """The first credential the programs give for ``host/repository``, or None."""
        helper = self._helpers.get(host)
        if helper is not None:
            found = helper.credential(host, deadline)
            if found is not None:
                return found
        image = f"{host}/{repository}"
        for provider in self._providers:
            if provider.matches(image):
                found = provider.credential(image, deadline)
                if found is not None:
                    return found
        if self._store is not None:
            return self._store.credential(host, deadline)
        return None

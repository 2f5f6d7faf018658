"""The one engine assembly: every driver builds its engines here, from the settings.

The webhook, the operator, ``slimgate check``, ``lint`` and ``audit`` call
:func:`build_engines`, so they run the same registry client, lineage resolver, policy and
analysis (as Kyverno's ``cmd/internal/engine.go`` serves each of its binaries). What they
do differently on purpose is an argument, not a copy:

- ``observer``: the webhook's and the operator's ``slimgate_registry_*`` counters;
- ``lineage``: ``background`` (the webhook never waits for the layer chains of the known
  toolchain images), ``bounded`` (the operator, ``check`` and ``audit`` wait at most
  ``registry.limits.lookupSeconds`` once per platform) or ``off``;
- ``connect``: the registry client is made now (``eager``: a bad ``caBundle`` fails the
  start or the reload), on the first registry reference (``lazy``: ``check oci:...`` never
  loads the HTTP stack), or ``never`` (``lint`` reads nothing);
- ``local_sources``: ``oci:``, ``oci-archive:`` and ``docker-archive:`` references are read
  from the disk (``check`` only: a pod's image never names the auditor's disk);
- ``pull_secrets``: the driver's reader of pods' pull secrets (its TTL, its counter), for
  :meth:`Engines.for_access`;
- ``registry``: what makes the registry client (a fake in unit tests);
- ``previous``: a webhook reload keeps the client (and its caches) while the registry
  options, credentials file, credential programs and observer stay the same, and the
  lineage resolver while the client and the toolchain images do. The analysis memo is new
  per generation (a reload may change thresholds, which its key does not hold).

Ownership: :class:`Engines` closes what it made (the registry client); the driver closes
what it passed (the pull-secret reader, the observer).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal, Protocol

from slimgate.analysis.knowledge import Knowledge
from slimgate.config import Settings
from slimgate.evaluation import Evaluator, ImageSource
from slimgate.model import Platform, Subject
from slimgate.wiring.router import SourceRouter

if TYPE_CHECKING:
    from slimgate.audit.auditing import Evaluate
    from slimgate.audit.results import Evaluated
    from slimgate.cluster.pullsecrets import PullSecrets
    from slimgate.kube.placement import Placement
    from slimgate.kube.workloads import PullAccess
    from slimgate.registry.counters import RegistryObserver
    from slimgate.registry.credential_programs import ProgramSettings
    from slimgate.registry.credentials import CredentialStore
    from slimgate.registry.options import RegistryOptions
    from slimgate.wiring.lineage import LineageResolver

log = logging.getLogger("slimgate.wiring")

Lineage = Literal["off", "background", "bounded"]
_ClientKey = tuple["RegistryOptions", str | None, "ProgramSettings", "RegistryObserver | None"]
Connect = Literal["eager", "lazy", "never"]


class Registry(ImageSource, Protocol):
    """What the engines need of the registry client (:class:`~slimgate.registry.client.
    RegistryClient`; a fake at this seam in unit tests)."""

    def with_credentials(self, credentials: CredentialStore) -> ImageSource: ...

    def close(self) -> None: ...


# Makes the registry client from its options, static credentials and observer.
RegistryFactory = Callable[
    ["RegistryOptions", "CredentialStore | None", "RegistryObserver | None"], Registry
]


def registry_client(
    options: RegistryOptions,
    credentials: CredentialStore | None,
    observer: RegistryObserver | None,
) -> Registry:
    """The real registry client; the HTTP stack is imported only now."""
    from slimgate.registry.client import RegistryClient

    return RegistryClient.from_options(options, credentials=credentials, observer=observer)


class _Client:
    """The registry client of one assembly: made at once, on first use, or never."""

    def __init__(
        self,
        key: _ClientKey,
        make: Callable[[], Registry] | None,
        made: Registry | None = None,
    ) -> None:
        self.key = key
        self._make = make
        self._made = made
        self._lock = threading.Lock()

    @property
    def made(self) -> Registry | None:
        return self._made

    def get(self) -> Registry:
        with self._lock:
            if self._made is None:
                if self._make is None:
                    from slimgate.errors import Unsupported

                    raise Unsupported("registry references are not available here")
                self._made = self._make()
            return self._made


class Engines:
    """The engines one driver (or one webhook generation) evaluates with.

    ``shared`` is the engine with the configured (static) credentials; :meth:`for_access`
    gives one that also sends a workload's pull secrets, over the same client, caches,
    lineage and memo of analyses.
    """

    def __init__(
        self,
        shared: Evaluator,
        client: _Client,
        lineage: tuple[tuple[object, ...], LineageResolver] | None,
        pull_secrets: PullSecrets | None,
    ) -> None:
        self.shared = shared
        self._client = client
        self._lineage = lineage
        self._pull_secrets = pull_secrets

    @property
    def client(self) -> Registry | None:
        """The registry client, when one has been made."""
        return self._client.made

    def for_access(self, access: PullAccess | None, budget: float) -> Evaluator:
        """The engine for a workload that pulls with ``access``: with the pull secrets the
        driver's reader finds for it within ``budget`` seconds, else the shared one."""
        if access is None or self._pull_secrets is None:
            return self.shared
        store = self._pull_secrets.store_for(access, budget)
        if store is None:
            return self.shared
        return self.with_credentials(store)

    def with_credentials(self, store: CredentialStore) -> Evaluator:
        """The shared engine reading registries with ``store`` first (same client)."""
        return self.shared.with_source(self._client.get().with_credentials(store))

    def evaluate_audit(
        self,
        platforms: Sequence[Platform],
        budget: float,
        platforms_for: Callable[[Placement], tuple[Platform, ...]] | None = None,
    ) -> Evaluate:
        """The audit's evaluation (operator and ``slimgate audit``): each workload's image
        through :meth:`for_access` on ``platforms_for`` its placement (when given and it
        names some; ``registry.platforms: auto``), else on ``platforms``; an unexpected
        failure is logged and becomes that image's error result, never a gap or a
        traceback."""
        configured = tuple(platforms)

        def evaluate(
            image: str, subject: Subject, access: PullAccess | None, placement: Placement
        ) -> Evaluated:
            platforms = (platforms_for(placement) if platforms_for else ()) or configured
            try:
                return self.for_access(access, budget).evaluate(image, subject, platforms)
            except Exception as exc:  # a failed evaluation is a result, not a gap
                log.exception("evaluating %s failed", image)
                reason = f"evaluation failed: {type(exc).__name__}: {exc}"
                return self.shared.unreadable(image, subject, reason, platforms[0])

        return evaluate

    def retire(self, successor: Engines) -> Callable[[], None] | None:
        """What closes the parts of this assembly ``successor`` does not share (its client),
        for the webhook to run once the reviews that may still use them are done."""
        client = self._client.made
        if client is None or client is successor._client.made:
            return None
        return client.close

    def close(self) -> None:
        """Close the registry client, if one was made; never the driver's reader."""
        client = self._client.made
        if client is not None:
            client.close()


def build_engines(
    settings: Settings,
    *,
    observer: RegistryObserver | None,
    lineage: Lineage,
    connect: Connect = "eager",
    local_sources: bool = False,
    insecure: Sequence[str] = (),
    pull_secrets: PullSecrets | None = None,
    previous: Engines | None = None,
    today: Callable[[], date] = date.today,
    registry: RegistryFactory = registry_client,
) -> Engines:
    """The engines of one driver (see the module docstring for the arguments).

    Raises :class:`~slimgate.errors.ConfigError` when the credentials file cannot be read
    or (``connect="eager"``) the registry client cannot be made, e.g. a bad ``caBundle``.
    """
    options = settings.registry.options.with_insecure(insecure)
    key = (options, settings.registry.docker_config, settings.registry.programs, observer)
    if previous is not None and previous._client.key == key and connect == "eager":
        client = previous._client
    else:
        client = _client(key, connect, registry)
    source: ImageSource
    if local_sources or connect != "eager":
        remote = client.get if connect != "never" else None
        source = SourceRouter(remote, options.limits.documents)
    else:
        source = client.get()
    resolver = _lineage(settings, lineage, source, client, previous)
    shared = Evaluator(
        source,
        settings.policy,
        Knowledge(),  # the policy's thresholds; lineage is resolved at run time
        today=today,
        lineage=resolver[1] if resolver is not None else None,
        clock=time.thread_time,
    )
    return Engines(shared, client, resolver, pull_secrets)


def _client(key: _ClientKey, connect: Connect, factory: RegistryFactory) -> _Client:
    """The credentials file (and the shared store's secret files) are read now, so a missing
    or bad ``registry.dockerConfig`` is a usage error before anything is looked up; the
    HTTP stack is imported only to connect."""
    if connect == "never":
        return _Client(key, None)
    from slimgate.registry.credentials import CredentialStore

    options, docker_config, programs, observer = key
    credentials = CredentialStore.from_file(docker_config) if docker_config else None
    credentials = _with_programs(credentials, programs, observer)
    if options.shared is not None:
        from slimgate.registry.shared import check_files

        check_files(options.shared)

    def make() -> Registry:
        return factory(options, credentials, observer)

    if connect == "lazy":
        return _Client(key, make)
    return _Client(key, make, make())


def _with_programs(
    credentials: CredentialStore | None,
    settings: ProgramSettings,
    observer: RegistryObserver | None,
) -> CredentialStore | None:
    """The static credentials with the credential programs below them: the helpers the
    dockerconfigjson names and the configured provider plugins (None: neither)."""
    from slimgate.errors import ConfigError
    from slimgate.registry.credential_programs import CredentialPrograms
    from slimgate.registry.credentials import CredentialStore

    store = credentials or CredentialStore.empty()
    helpers, helper_store = store.helpers, store.helper_store
    if not (helpers or helper_store or settings.providers):
        return credentials
    if (helpers or helper_store) and settings.bin_dir is None:
        raise ConfigError(
            "registry.dockerConfig names credential helpers (credHelpers or credsStore); "
            "set registry.credentialPlugins.binDir to the absolute directory that holds "
            "their docker-credential-<name> programs"
        )
    for name in {*helpers.values(), *([helper_store] if helper_store else [])}:
        spec = settings.helper(name)
        if spec is not None and not (os.path.isfile(spec.path) and os.access(spec.path, os.X_OK)):
            raise ConfigError(
                f"registry.dockerConfig names the credential helper {name!r}, "
                f"but {spec.path} is not an executable file"
            )
    programs = CredentialPrograms(
        settings,
        cred_helpers=helpers,
        creds_store=helper_store,
        # no observer: runs and cache lookups are not counted
        report=observer.program if observer is not None else lambda name, outcome: None,
        cache_hit=observer.cache if observer is not None else lambda name, hit: None,
    )
    return store.with_programs(programs)


def _lineage(
    settings: Settings,
    mode: Lineage,
    source: ImageSource,
    client: _Client,
    previous: Engines | None,
) -> tuple[tuple[object, ...], LineageResolver] | None:
    """The resolver of the known toolchain images (None: lineage off or no images)."""
    images = settings.registry.toolchain_images
    if mode == "off" or not images:
        return None
    key = (client, images, mode)
    if previous is not None and previous._lineage is not None and previous._lineage[0] == key:
        return previous._lineage
    from slimgate.wiring.lineage import LineageResolver

    wait = 0.0 if mode == "background" else settings.registry.options.limits.lookup_seconds
    return key, LineageResolver(source, images, wait_seconds=wait)

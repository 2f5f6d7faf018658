"""The registry adapter: reads image manifests and configs from OCI registries.

:class:`RegistryClient` implements :class:`slimgate.evaluation.ImageSource`. Everything else
here is its parts: options, credentials, address policy, caches, counters.
"""

from slimgate.registry.client import CredentialedSource, RegistryClient
from slimgate.registry.counters import Counters, Observers, RegistryObserver
from slimgate.registry.credentials import Credential, CredentialStore
from slimgate.registry.options import CacheOptions, Limits, RegistryOptions

__all__ = [
    "CacheOptions",
    "Counters",
    "Credential",
    "CredentialStore",
    "CredentialedSource",
    "Limits",
    "Observers",
    "RegistryClient",
    "RegistryObserver",
    "RegistryOptions",
]

"""The registry adapter: reads image manifests and configs from OCI registries.

:class:`RegistryClient` implements :class:`slimgate.evaluation.ImageSource`. Everything else
here is its parts: options, credentials, address policy, caches, counters.

The names below load their module on first use, so that ``slimgate check oci:...`` (which
needs ``registry.options`` but never the HTTP stack) starts without importing httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slimgate.registry.client import CredentialedSource, RegistryClient
    from slimgate.registry.counters import Counters, Observers, RegistryObserver
    from slimgate.registry.credentials import Credential, CredentialStore
    from slimgate.registry.options import CacheOptions, Limits, RegistryOptions

_HOMES = {
    "CacheOptions": "options",
    "Counters": "counters",
    "Credential": "credentials",
    "CredentialStore": "credentials",
    "CredentialedSource": "client",
    "Limits": "options",
    "Observers": "counters",
    "RegistryClient": "client",
    "RegistryObserver": "counters",
    "RegistryOptions": "options",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)

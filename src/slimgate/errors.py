"""slimgate's error hierarchy, drawn in one place.

    SlimgateError
    ├── UsageError
    │   ├── InvalidReference          an image reference that the grammar rejects
    │   ├── InvalidPlatform
    │   └── ConfigError               a configuration file that does not validate
    ├── TooComplex                    an image or Dockerfile past the analysis limits
    └── RegistryError                 anything that stopped us reading an image
        ├── RegistryUnavailable       connection refused/reset, DNS, 5xx
        │   ├── TimedOut              no answer within the lookup deadline
        │   └── RateLimited           429, with the Retry-After the registry sent
        ├── AuthError                 401/403 after the challenge flow
        ├── NotFound                  404: no such repository, tag or digest
        ├── TooLarge                  a manifest, config or index over its cap
        ├── DigestMismatch            the bytes do not hash to the digest asked for
        ├── Unsupported               schema1, unknown media types, platform not present
        └── Blocked                   the host or an address it resolves to is not allowed

Library exceptions (httpx, json, OSError) are wrapped with ``raise ... from exc`` at the
edge where they occur, so callers only ever catch these.
"""

from __future__ import annotations


class SlimgateError(Exception):
    """Base class of every error slimgate raises on purpose."""


class UsageError(SlimgateError):
    """The input we were given is wrong; the message says what and where."""


class InvalidReference(UsageError):
    """An image reference that does not follow the distribution reference grammar."""


class InvalidPlatform(UsageError):
    """A platform string that is not ``os/arch[/variant]``."""


class ConfigError(UsageError):
    """A configuration file that does not validate; the message names key and line."""


class TooComplex(SlimgateError):
    """An image history or Dockerfile past one of the analysis limits (entries, text, words,
    nesting, CPU time); the message names the limit. The analysis turns it into a finding."""


class RegistryError(SlimgateError):
    """We could not read an image's manifest or config. ``temporary`` marks retryable causes."""

    temporary = False

    def __init__(self, message: str, *, registry: str | None = None) -> None:
        super().__init__(message)
        self.registry = registry


class RegistryUnavailable(RegistryError):
    temporary = True


class TimedOut(RegistryUnavailable):
    """The registry (or its token service) did not finish answering within the deadline."""


class RateLimited(RegistryUnavailable):
    def __init__(
        self, message: str, *, registry: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, registry=registry)
        self.retry_after = retry_after


class AuthError(RegistryError):
    pass


class NotFound(RegistryError):
    pass


class TooLarge(RegistryError):
    pass


class DigestMismatch(RegistryError):
    pass


class Unsupported(RegistryError):
    pass


class Blocked(RegistryError):
    pass

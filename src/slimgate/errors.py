"""slimgate's error hierarchy, drawn in one place.

    SlimgateError
    ├── UsageError
    │   ├── InvalidReference          an image reference that the grammar rejects
    │   ├── InvalidPlatform
    │   ├── ConfigError               a configuration file that does not validate
    │   ├── InvalidReview             a body that is not an AdmissionReview v1 request
    │   └── ObjectShapeError          a Kubernetes object whose fields have the wrong types
    ├── TooComplex                    an image or Dockerfile past the analysis limits
    ├── DriverUnavailable             a subcommand whose module is not installed
    ├── CertificateError              a serving certificate and key that do not load as a pair
    ├── KubeError                     a Kubernetes API request that failed
    ├── SecretUnreadable              a pull secret or ServiceAccount that could not be read
    │   └── SecretsUnavailable        the Kubernetes API did not answer at all
    └── RegistryError                 anything that stopped us reading an image
        ├── RegistryUnavailable       connection refused/reset, DNS, 5xx
        │   ├── TimedOut              no answer within the lookup deadline
        │   └── RateLimited           429, with the Retry-After the registry sent
        ├── AuthError                 401/403 after the challenge flow
        ├── CredentialsUnavailable    a credential plugin or helper that failed to answer
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


class InvalidReview(UsageError):
    """A body that is not an AdmissionReview v1 request; the message says why.

    ``uid`` is set when the request carried one, so the answer can still be a review.
    """

    def __init__(self, message: str, *, uid: str | None = None) -> None:
        super().__init__(message)
        self.uid = uid


class ObjectShapeError(UsageError):
    """An object whose fields do not have the types the Kubernetes API gives them."""


class DriverUnavailable(SlimgateError):
    """The module behind a subcommand cannot be imported."""


class CertificateError(SlimgateError):
    """The certificate and key could not be loaded as a pair."""


class KubeError(SlimgateError):
    """A Kubernetes API request that failed; ``status`` is 0 when no response came back."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SecretUnreadable(SlimgateError):
    """A secret or service account that could not be read; the message has no secret data.

    The answer is remembered for the TTL like a secret that was read.
    """


class SecretsUnavailable(SecretUnreadable):
    """The Kubernetes API did not answer (refused, timed out, broken connection).

    Not remembered, and the other reads of the same review are not attempted.
    """


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


class CredentialsUnavailable(RegistryError):
    """A credential-provider plugin or Docker credential helper failed (exit status, time
    limit, unreadable answer); the message names the program and the reason, never what it
    printed."""

    temporary = True


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

"""Image references: ``[registry[:port]/]repository[:tag][@digest]``, parsed and normalised.

Every image in a pod spec is untrusted text, so it is parsed here, strictly, before anything
touches the network. The grammar is the one the container tools share,
github.com/distribution/reference (regexp.go for the grammar, normalize.go for the Docker
Hub defaults):

- a domain (DNS labels or a bracketed IPv6 address) with an optional port, recognised as a
  registry only when it contains ``.`` or ``:``, is ``localhost``, or has upper-case letters;
- path components of lower-case letters and digits joined by ``.``, ``_``, ``__`` or dashes;
- a tag ``[\\w][\\w.-]{0,127}``; a digest ``algorithm:hex``;
- at most 255 characters for registry plus repository;
- ``nginx`` means ``docker.io/library/nginx:latest``; ``index.docker.io`` is ``docker.io``.

A tag and a digest may both be given; the digest wins when fetching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimgate.errors import InvalidReference

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
LEGACY_DOCKER_HUB = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

# regexp.go, written out once.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN}/)?{_REMOTE_NAME}"

_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$", re.ASCII)
_REMOTE_NAME_RE = re.compile(rf"^{_REMOTE_NAME}$", re.ASCII)
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$")

# go-digest: the algorithms it knows and the hex length each one has.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def validate_digest(digest: str) -> str:
    """Return ``digest`` if it is ``algorithm:hex`` with a known algorithm, else raise."""
    algorithm, sep, hexpart = digest.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if not sep or length is None:
        raise InvalidReference(
            f"invalid digest {digest!r}: the algorithm must be one of "
            f"{', '.join(DIGEST_HEX_LENGTHS)}"
        )
    if len(hexpart) != length or not re.fullmatch(r"[0-9a-f]+", hexpart):
        raise InvalidReference(
            f"invalid digest {digest!r}: {algorithm} needs {length} lower-case hex characters"
        )
    return digest


def _split_domain(name: str) -> tuple[str, str]:
    """normalize.go's splitDockerDomain: which part of a name is the registry."""
    first, sep, rest = name.partition("/")
    if not sep or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DOCKER_HUB, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DOCKER_HUB:
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed, normalised image reference.

    ``registry`` is the name the image is known by (``docker.io``, ``ghcr.io``,
    ``localhost:5000``); :attr:`endpoint` is where to send HTTP requests for it.
    ``tag`` is ``latest`` when neither a tag nor a digest was written.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse ``text`` as a container tool would; raise :class:`InvalidReference`."""
        if not isinstance(text, str) or not text:
            raise InvalidReference("invalid image reference '': the reference is empty")
        if text != text.strip():
            raise InvalidReference(
                f"invalid image reference {text!r}: leading or trailing whitespace"
            )
        if _IDENTIFIER_RE.match(text):
            raise InvalidReference(
                f"invalid image reference {text!r}: a bare 64-character hex string is an "
                "image ID, not a reference"
            )
        match = _REFERENCE_RE.match(text)
        if match is None:
            raise InvalidReference(f"invalid image reference {text!r}: {_diagnose(text)}")
        name, tag, digest = match.group(1), match.group(2), match.group(3)
        if len(name) > NAME_MAX:
            raise InvalidReference(
                f"invalid image reference {text!r}: the name is {len(name)} characters, "
                f"longer than {NAME_MAX}"
            )
        if digest is not None:
            try:
                validate_digest(digest)
            except InvalidReference as exc:
                raise InvalidReference(f"invalid image reference {text!r}: {exc}") from None
        registry, repository = _split_domain(name)
        if repository.lower() != repository or not _REMOTE_NAME_RE.match(repository):
            raise InvalidReference(
                f"invalid image reference {text!r}: the repository name must be lower-case"
            )
        if len(f"{registry}/{repository}") > NAME_MAX:
            raise InvalidReference(
                f"invalid image reference {text!r}: the normalised name is longer than "
                f"{NAME_MAX} characters"
            )
        if tag is None and digest is None:
            tag = DEFAULT_TAG
        return cls(registry=registry, repository=repository, tag=tag, digest=digest)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def endpoint(self) -> str:
        """The ``host[:port]`` that serves the Distribution API for this registry."""
        return DOCKER_HUB_ENDPOINT if self.registry == DOCKER_HUB else self.registry

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest if self.digest is not None else self.tag or DEFAULT_TAG

    @property
    def familiar(self) -> str:
        """The short form people type: ``nginx:latest``, ``bitnami/redis:7``."""
        name = self.repository
        if self.registry == DOCKER_HUB:
            if name.startswith(OFFICIAL_PREFIX) and name.count("/") == 1:
                name = name.removeprefix(OFFICIAL_PREFIX)
        else:
            name = self.name
        return name + self._suffix()

    def _suffix(self) -> str:
        suffix = f":{self.tag}" if self.tag is not None else ""
        return suffix + (f"@{self.digest}" if self.digest is not None else "")

    def __str__(self) -> str:
        return self.name + self._suffix()


def _diagnose(text: str) -> str:
    """Say which part of a reference that failed the grammar is wrong."""
    rest = text
    digest_part: str | None = None
    if "@" in rest:
        rest, _, digest_part = rest.partition("@")
        if not digest_part:
            return "nothing after '@' (expected a digest such as sha256:<64 hex>)"
    last_slash = rest.rfind("/")
    tag_part: str | None = None
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag_part = rest[:colon], rest[colon + 1 :]
    if not rest:
        return "the repository name is missing"
    if tag_part is not None and not re.fullmatch(_TAG, tag_part, re.ASCII):
        return (
            f"invalid tag {tag_part!r} (letters, digits, '_', '.', '-'; "
            "at most 128 characters, not starting with '.' or '-')"
        )
    if digest_part is not None and not re.fullmatch(_DIGEST, digest_part, re.ASCII):
        return f"invalid digest {digest_part!r} (expected algorithm:hex)"
    first, sep, remainder = rest.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost"):
        if not _DOMAIN_RE.match(first):
            return f"invalid registry host {first!r}"
        rest = remainder
    if rest.lower() != rest:
        return "the repository name must be lower-case"
    return (
        f"invalid repository name {rest!r} (lower-case letters and digits, separated by "
        "'.', '_', '__', '-' or '/')"
    )

"""Which exemption, if any, covers an image run by a subject on a given day.

An exemption names namespaces, image patterns and workload labels; every kind it names must
match (a namespace from its list, an image pattern from its list, all of its labels), and
it must not have expired (``expires`` is the last day it applies). Patterns are shell globs
(``*``, ``?``, ``[...]``; ``*`` also crosses ``/``) matched against the normalised reference
(``nginx`` is ``docker.io/library/nginx``): a pattern matches the full reference, the
repository name alone, ``name:tag`` or ``name@digest``, so ``registry.example/team/app``
covers every tag of that repository. Images that are not registry references
(``oci:./layout``) are matched as written.

When several exemptions apply, the most specific one wins and is recorded in the decision.
Specificity is compared in this order:

1. an exemption whose image pattern matched beats one without image patterns;
2. between image patterns: the longer literal prefix (characters before the first
   wildcard) wins, then the fewer wildcards, then the more literal characters;
3. then the more labels, then having a namespace list;
4. then the order in the configuration file (earlier wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from fnmatch import fnmatchcase
from functools import lru_cache

from slimgate.errors import InvalidReference
from slimgate.model import Subject
from slimgate.policy.decision import Exemption
from slimgate.reference import DOCKER_HUB, LEGACY_DOCKER_HUB, OFFICIAL_PREFIX, ImageReference

_WILDCARDS = "*?["

PatternSpecificity = tuple[int, int, int]
_NO_IMAGE: tuple[int, PatternSpecificity] = (0, (0, 0, 0))


def pattern_specificity(pattern: str) -> PatternSpecificity:
    """(literal prefix length, -wildcard count, literal characters) of a normalised pattern."""
    wildcards = sum(pattern.count(c) for c in _WILDCARDS)
    prefix = next((i for i, char in enumerate(pattern) if char in _WILDCARDS), len(pattern))
    literal = len(pattern) - wildcards
    return (prefix, -wildcards, literal)


@lru_cache(maxsize=1024)
def normalise_pattern(pattern: str) -> str:
    """Give an image pattern the Docker Hub defaults a reference gets.

    ``golang:*`` becomes ``docker.io/library/golang:*`` and ``team/*`` ``docker.io/team/*``;
    a pattern that names a registry, or whose registry part is a wildcard, keeps it.
    """
    pattern = pattern.strip()
    first, sep, rest = pattern.partition("/")
    if pattern[:1] in tuple(_WILDCARDS) or (sep and any(c in first for c in _WILDCARDS)):
        return pattern  # the registry part is a wildcard: nothing to default
    if sep and (any(c in first for c in ".:") or first == "localhost"):
        domain, remainder = (DOCKER_HUB if first == LEGACY_DOCKER_HUB else first), rest
    else:
        domain, remainder = DOCKER_HUB, pattern
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return f"{domain}/{remainder}"


@lru_cache(maxsize=4096)
def reference_forms(image: str) -> tuple[str, ...]:
    """The strings an image pattern is matched against (see the module docstring).

    Memoised, like :func:`normalise_pattern`: every decision asks, on the admission path,
    for the same few images and patterns.
    """
    try:
        ref = ImageReference.parse(image)
    except InvalidReference:
        return (image,)
    forms = [str(ref), ref.name]
    if ref.tag is not None:
        forms.append(f"{ref.name}:{ref.tag}")
    if ref.digest is not None:
        forms.append(f"{ref.name}@{ref.digest}")
    return tuple(dict.fromkeys(forms))


def is_expired(exemption: Exemption, today: date) -> bool:
    return exemption.expires is not None and today > exemption.expires


def _image_match(patterns: Sequence[str], forms: Sequence[str]) -> PatternSpecificity | None:
    best: PatternSpecificity | None = None
    for raw in patterns:
        for pattern in dict.fromkeys((normalise_pattern(raw), raw)):
            if any(fnmatchcase(form, pattern) for form in forms):
                spec = pattern_specificity(pattern)
                best = spec if best is None or spec > best else best
                break
    return best


def _specificity(
    exemption: Exemption, forms: Sequence[str], subject: Subject
) -> tuple[tuple[int, PatternSpecificity], int, int] | None:
    """The sort key of an exemption that matches, or None when it does not."""
    if not (exemption.namespaces or exemption.images or exemption.labels):
        return None  # an exemption must select something; config rejects empty ones
    if exemption.namespaces:
        namespace = subject.namespace
        if namespace is None or not any(fnmatchcase(namespace, n) for n in exemption.namespaces):
            return None
    image_key = _NO_IMAGE
    if exemption.images:
        spec = _image_match(exemption.images, forms)
        if spec is None:
            return None
        image_key = (1, spec)
    for key, value in exemption.labels:
        if subject.labels.get(key) != value:
            return None
    return (image_key, len(exemption.labels), 1 if exemption.namespaces else 0)


def find_exemption(
    exemptions: Iterable[Exemption], image: str, subject: Subject, today: date
) -> Exemption | None:
    """The most specific unexpired exemption covering ``image`` run by ``subject``."""
    if not exemptions:
        return None
    forms = reference_forms(image)
    best: Exemption | None = None
    best_key: tuple[tuple[int, PatternSpecificity], int, int] | None = None
    for exemption in exemptions:
        if is_expired(exemption, today):
            continue
        key = _specificity(exemption, forms, subject)
        if key is not None and (best_key is None or key > best_key):
            best, best_key = exemption, key
    return best

"""Which of the cluster's node platforms a pod may be scheduled on, from its own spec.

A pod lands on a node whose labels satisfy its ``nodeSelector`` (every pair) and, when set,
its required node affinity (``requiredDuringSchedulingIgnoredDuringExecution``: any one of
the ``nodeSelectorTerms``, each the AND of its ``matchExpressions``). Only the well-known
labels ``kubernetes.io/os`` and ``kubernetes.io/arch`` (Kubernetes docs, "Well-Known
Labels, Annotations and Taints") say anything about a node's platform, so only requirements
on those two narrow the set; every other requirement is taken as one some node of that
platform may meet. ``matchFields`` (by node name) narrows nothing either.

When nothing is left (the pod asks for an architecture no node has yet: it stays pending
until one joins), the platform it names is evaluated if it names exactly one through its
``nodeSelector``, else every platform of the cluster: the pod's image is still judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from slimgate.errors import ObjectShapeError
from slimgate.model import Platform

OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"
PLATFORM_LABELS = (OS_LABEL, ARCH_LABEL)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry on a platform label."""

    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist (Gt/Lt never hold for these labels)
    values: frozenset[str] = frozenset()

    def holds(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator == "In":
            return value in self.values
        if self.operator == "NotIn":
            return value not in self.values
        if self.operator == "Exists":
            return value is not None
        if self.operator == "DoesNotExist":
            return value is None
        return False


@dataclass(frozen=True, slots=True)
class Placement:
    """What a pod spec requires of its node's platform labels.

    ``terms`` is None without required node affinity; otherwise the terms, each the
    requirements on platform labels it holds (an empty one holds on every platform).
    """

    node_selector: tuple[tuple[str, str], ...] = ()  # on platform labels, sorted
    terms: tuple[tuple[Requirement, ...], ...] | None = None

    def allows(self, platform: Platform) -> bool:
        labels = {OS_LABEL: platform.os, ARCH_LABEL: platform.architecture}
        if any(labels[key] != wanted for key, wanted in self.node_selector):
            return False
        if self.terms is None:
            return True
        return any(all(r.holds(labels) for r in term) for term in self.terms)

    def named(self) -> Platform | None:
        """The one platform the ``nodeSelector`` names (os defaults to linux), if any."""
        selector = dict(self.node_selector)
        arch = selector.get(ARCH_LABEL)
        if arch is None:
            return None
        return Platform(os=selector.get(OS_LABEL, "linux"), architecture=arch)


def narrow(present: Iterable[Platform], placement: Placement) -> tuple[Platform, ...]:
    """The platforms of ``present`` (the cluster's nodes) the pod may run on, sorted;
    see the module's docstring for when none is."""
    platforms = sorted(set(present), key=str)
    allowed = tuple(p for p in platforms if placement.allows(p))
    named = placement.named()
    return allowed or ((named,) if named is not None else tuple(platforms))


def read_placement(spec: Mapping[str, Any], spec_path: str = "spec") -> Placement:
    """The platform requirements of a PodSpec. Raises :class:`ObjectShapeError` when a
    field on the way has the wrong type."""
    selector = spec.get("nodeSelector")
    if selector is None:
        selector = {}
    if not isinstance(selector, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        raise ObjectShapeError(f"{spec_path}.nodeSelector is not a map of strings")
    pairs = tuple(sorted((k, v) for k, v in selector.items() if k in PLATFORM_LABELS))
    where = f"{spec_path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    required = _get(spec, ("affinity", "nodeAffinity"), spec_path).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required is None:
        return Placement(pairs)
    if not isinstance(required, dict):
        raise ObjectShapeError(f"{where} is not an object")
    raw_terms = required.get("nodeSelectorTerms") or []
    if not isinstance(raw_terms, list):
        raise ObjectShapeError(f"{where}.nodeSelectorTerms is not a list")
    terms = tuple(
        _term(term, f"{where}.nodeSelectorTerms[{i}]") for i, term in enumerate(raw_terms)
    )
    return Placement(pairs, terms or None)


def _get(spec: Mapping[str, Any], keys: tuple[str, ...], spec_path: str) -> Mapping[str, Any]:
    value: Any = spec
    where = spec_path
    for key in keys:
        where = f"{where}.{key}"
        value = value.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ObjectShapeError(f"{where} is not an object")
    return value  # type: ignore[no-any-return]


def _term(term: object, where: str) -> tuple[Requirement, ...]:
    if not isinstance(term, dict):
        raise ObjectShapeError(f"{where} is not an object")
    expressions = term.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise ObjectShapeError(f"{where}.matchExpressions is not a list")
    requirements = []
    for i, expression in enumerate(expressions):
        at = f"{where}.matchExpressions[{i}]"
        if not isinstance(expression, dict):
            raise ObjectShapeError(f"{at} is not an object")
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if not isinstance(key, str) or not isinstance(operator, str):
            raise ObjectShapeError(f"{at}.key and {at}.operator must be strings")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ObjectShapeError(f"{at}.values is not a list of strings")
        if key in PLATFORM_LABELS:
            requirements.append(Requirement(key, operator, frozenset(values)))
    return tuple(requirements)

"""A policy as plain values: what each rule does, the mode, thresholds and exemptions.

The configuration file is validated at the edge (``slimgate.config``) and turned into these
frozen dataclasses; :func:`slimgate.policy.decide.decide` reads nothing else, so a decision
depends only on its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slimgate.policy.decision import Exemption, Mode, RuleAction, Verdict

# The rule id of the finding recorded when an image cannot be read (``onRegistryError``).
REGISTRY_ERROR = "registry-error"

MEGABYTE = 1_000_000  # thresholds are decimal megabytes, as registries and `docker images` show


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Sizes above which the oversize rules fire, in megabytes of compressed layer data."""

    layer_megabytes: float = 200.0
    image_megabytes: float = 1000.0

    @property
    def layer_bytes(self) -> int:
        return int(self.layer_megabytes * MEGABYTE)

    @property
    def image_bytes(self) -> int:
        return int(self.image_megabytes * MEGABYTE)


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything :func:`~slimgate.policy.decide.decide` needs besides the analysis.

    ``rules`` maps a rule id to its action; a rule the policy does not name gets
    ``default_action``. ``namespace_modes`` overrides ``mode`` for the namespaces it names.
    ``on_registry_error`` is the verdict, before the mode, for an image that cannot be read.
    """

    rules: Mapping[str, RuleAction] = field(default_factory=dict)
    mode: Mode = Mode.ENFORCE
    namespace_modes: Mapping[str, Mode] = field(default_factory=dict)
    on_registry_error: Verdict = Verdict.WARN
    thresholds: Thresholds = field(default_factory=Thresholds)
    exemptions: tuple[Exemption, ...] = ()
    default_action: RuleAction = RuleAction.WARN

    def action_for(self, rule: str) -> RuleAction:
        return self.rules.get(rule, self.default_action)

    def mode_for(self, namespace: str | None) -> Mode:
        if namespace is None:
            return self.mode
        return self.namespace_modes.get(namespace, self.mode)

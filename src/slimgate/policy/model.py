"""A policy as plain values: what each rule does, the mode, thresholds and exemptions.

The configuration file is validated at the edge (``slimgate.config``) and turned into these
frozen dataclasses; :func:`slimgate.policy.decide.decide` reads nothing else, so a decision
depends only on its arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slimgate.analysis import rules
from slimgate.analysis.knowledge import Thresholds
from slimgate.policy.decision import Exemption, Mode, RuleAction, Verdict

# The rule id of the finding recorded when an image cannot be read (``onRegistryError``).
REGISTRY_ERROR = rules.REGISTRY_ERROR

_ACTION_OF_VERDICT = {
    Verdict.DENY: RuleAction.DENY,
    Verdict.WARN: RuleAction.WARN,
    Verdict.ALLOW: RuleAction.OFF,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything :func:`~slimgate.policy.decide.decide` needs besides the analysis.

    ``rules`` maps a rule id to its action; a rule the policy does not name gets the
    analysis's default for that rule (:data:`slimgate.analysis.rules.DEFAULT_ACTIONS`), and a
    rule unknown to both gets ``default_action``. ``namespace_modes`` overrides ``mode`` for
    the namespaces it names. ``on_registry_error`` is the verdict, before the mode, for an
    image that cannot be read or is too complex to analyse (the ``UNEVALUATED`` rules, whose
    action it sets; ``off`` stands for ``allow``).
    """

    rules: Mapping[str, RuleAction] = field(default_factory=dict)
    mode: Mode = Mode.ENFORCE
    namespace_modes: Mapping[str, Mode] = field(default_factory=dict)
    on_registry_error: Verdict = Verdict.WARN
    thresholds: Thresholds = field(default_factory=Thresholds)
    exemptions: tuple[Exemption, ...] = ()
    default_action: RuleAction = RuleAction.WARN

    def action_for(self, rule: str) -> RuleAction:
        if rule in rules.UNEVALUATED:
            return _ACTION_OF_VERDICT[self.on_registry_error]
        action = self.rules.get(rule)
        if action is not None:
            return action
        default = rules.DEFAULT_ACTIONS.get(rule)
        return RuleAction(default) if default is not None else self.default_action

    def mode_for(self, namespace: str | None) -> Mode:
        if namespace is None:
            return self.mode
        return self.namespace_modes.get(namespace, self.mode)

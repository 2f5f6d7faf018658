"""Turn findings into allow / warn / deny under a policy: rule actions, modes, exemptions.

Entry points: :func:`slimgate.policy.decide.decide` and
:func:`slimgate.policy.decide.decide_unreadable`; the policy itself is
:class:`slimgate.policy.model.Policy`.
"""

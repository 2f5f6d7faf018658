"""Turn findings into allow / warn / deny under a policy: rule actions, modes, exemptions."""

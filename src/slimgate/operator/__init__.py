"""The audit operator: kopf watches pods, an auditor writes PolicyReports per namespace.

``slimgate operator`` runs :func:`slimgate.operator.app.run`, its composition root.
"""

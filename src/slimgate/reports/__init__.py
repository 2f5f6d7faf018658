"""Renderings of the audit model (:mod:`slimgate.audit`): ``wgpolicyk8s.io/v1alpha2``
PolicyReports and ``openreports.io/v1alpha1`` Reports, and the table, JSON and HTML of
``slimgate audit``. They lay out what the model computed and compute nothing of their own.
"""

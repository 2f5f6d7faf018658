"""What the audit half reports: workloads, their evaluated images, PolicyReports and renderings.

Pure: the operator and ``slimgate audit`` hand it Kubernetes objects already read and images
already evaluated; it groups pods under their top-level owner, turns evaluations into
``wgpolicyk8s.io/v1alpha2`` PolicyReports or ``openreports.io/v1alpha1`` Reports, totals the
bloat cost and renders tables, JSON and HTML. Both drivers import it, so they cannot
disagree about what a result means.
"""

"""The audit model: workloads and their pods, owners, inventory, evaluated images, results,
bloat and the cluster summary.

Pure: the operator and ``slimgate audit`` hand it Kubernetes objects already read and images
already evaluated; it groups pods under their top-level owner, turns evaluations into
per-rule results and totals the bloat cost. Both drivers import it, so they cannot disagree
about what a result means; :mod:`slimgate.reports` renders what it makes.
"""

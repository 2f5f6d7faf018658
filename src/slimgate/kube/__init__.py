"""Kubernetes shapes slimgate reads and writes, as pure functions over raw JSON.

``admission``: AdmissionReview v1 request types and validation; ``workloads``: where each
kind keeps its pod template and which images it runs; ``responses``: AdmissionReview answers.
Shared by the webhook and the audit operator. Nothing here talks to the API server (that is
:mod:`slimgate.cluster`): no Kubernetes client, no I/O.
"""

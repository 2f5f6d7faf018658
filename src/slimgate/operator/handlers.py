"""kopf wiring: one registry of our own, a login from our kubeconfig, a thin pod handler.

No module-level handlers and no kopf default registry: :func:`build_registry` returns a
fresh ``kopf.OperatorRegistry`` whose pod handler only forwards each watch event to the
:class:`~slimgate.operator.auditor.Auditor`. ``on.event`` handlers keep no progress
annotations and add no finalizers, so the operator never writes to the pods it watches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import kopf
from kubernetes import client as k8s

from slimgate.operator.auditor import Auditor

log = logging.getLogger(__name__)


def connection_info(configuration: k8s.Configuration) -> kopf.ConnectionInfo:
    """kopf credentials from a loaded ``kubernetes`` configuration (kubeconfig or in-cluster)."""
    header = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    scheme, token = None, None
    if header:
        parts = header.split(" ", 1)
        scheme, token = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )


def build_registry(
    auditor: Auditor, login: Callable[[], kopf.ConnectionInfo]
) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False  # kopf's own events about handlers, on pods: noise
        settings.scanning.disabled = True  # no namespace/CRD watching: pods cluster-wide only
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330

    @kopf.on.login(registry=registry)
    def authenticate(**_: Any) -> kopf.ConnectionInfo:
        return login()

    @kopf.on.event("", "v1", "pods", registry=registry)
    def pod(event: Mapping[str, Any], **_: Any) -> None:
        auditor.pod_event(event.get("type"), event.get("object") or {})

    return registry

"""AdmissionReview requests in the exact shape the kube-apiserver sends them.

Field set and defaults follow what a v1.30 apiserver posts to a validating webhook:
``requestKind``/``requestResource``, ``userInfo``, ``options`` (CreateOptions/UpdateOptions),
``dryRun`` and an object that has already been defaulted (imagePullPolicy,
terminationMessagePath, restartPolicy, ...).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import Any

GROUPS = {
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "ConfigMap": ("", "v1", "configmaps"),
}


def container(name: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def pod_spec(
    images: list[str],
    *,
    init: Sequence[str] = (),
    ephemeral: Sequence[str] = (),
    pull_secrets: Sequence[str] = (),
    service_account: str = "default",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [container(f"c{i}", image) for i, image in enumerate(images)],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": service_account,
        "serviceAccount": service_account,
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
    }
    if init:
        spec["initContainers"] = [container(f"init{i}", image) for i, image in enumerate(init)]
    if ephemeral:
        spec["ephemeralContainers"] = [
            {**container(f"debugger-{i}", image), "targetContainerName": "c0"}
            for i, image in enumerate(ephemeral)
        ]
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in pull_secrets]
    return spec


def pod(
    images: list[str],
    *,
    name: str = "web",
    namespace: str = "default",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "creationTimestamp": None,
        "labels": labels or {"app": name},
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata,
        "spec": pod_spec(images, **spec),
        "status": {},
    }


def workload(
    kind: str,
    images: list[str],
    *,
    name: str = "web",
    namespace: str = "default",
    **spec: Any,
) -> dict[str, Any]:
    group, version, _ = GROUPS[kind]
    template = {
        "metadata": {"creationTimestamp": None, "labels": {"app": name}},
        "spec": pod_spec(images, **spec),
    }
    body: dict[str, Any]
    if kind == "CronJob":
        template["spec"]["restartPolicy"] = "OnFailure"
        body = {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "jobTemplate": {
                "metadata": {"creationTimestamp": None},
                "spec": {"template": template},
            },
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        }
    else:
        if kind == "Job":
            template["spec"]["restartPolicy"] = "Never"
        body = {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}
    return {
        "kind": kind,
        "apiVersion": f"{group}/{version}" if group else version,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": None,
            "labels": {"app": name},
        },
        "spec": body,
        "status": {},
    }


def review(
    obj: dict[str, Any] | None,
    *,
    kind: str | None = None,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    sub_resource: str | None = None,
    dry_run: bool = False,
    namespace: str | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    """An AdmissionReview v1 request for ``obj`` as the apiserver would post it."""
    kind = kind or (obj or {}).get("kind", "Pod")
    group, version, resource = GROUPS[kind]
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    metadata = (obj or old or {}).get("metadata", {})
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": gvk,
        "resource": gvr,
        "requestKind": dict(gvk),
        "requestResource": dict(gvr),
        "name": metadata.get("name", ""),
        "namespace": namespace if namespace is not None else metadata.get("namespace", "default"),
        "operation": operation,
        "userInfo": {
            "username": "kubernetes-admin",
            "groups": ["system:masters", "system:authenticated"],
        },
        "object": copy.deepcopy(obj),
        "oldObject": copy.deepcopy(old),
        "dryRun": dry_run,
        "options": {
            "kind": "CreateOptions" if operation == "CREATE" else "UpdateOptions",
            "apiVersion": "meta.k8s.io/v1",
            **({"dryRun": ["All"]} if dry_run else {}),
            "fieldManager": "kubectl-client-side-apply",
        },
    }
    if sub_resource:
        request["subResource"] = sub_resource
        request["requestSubResource"] = sub_resource
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request}


def ephemeral_update(images: list[str], debug_image: str, **kw: Any) -> dict[str, Any]:
    """``kubectl debug`` on a running pod: UPDATE of the pods/ephemeralcontainers subresource."""
    old = pod(images, **kw)
    new = pod(images, ephemeral=[debug_image], **kw)
    return review(new, operation="UPDATE", old=old, sub_resource="ephemeralcontainers")

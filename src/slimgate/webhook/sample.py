"""The sample AdmissionReview that ``slimgate serve --dev`` writes next to its certificates.

A Pod CREATE in the exact shape the apiserver posts, so the printed ``curl`` command shows a
real answer straight away.
"""

from __future__ import annotations

from typing import Any

SAMPLE_IMAGES = ("docker.io/library/golang:1.23", "docker.io/library/nginx:1.27-alpine")


def sample_review(images: tuple[str, ...] = SAMPLE_IMAGES) -> dict[str, Any]:
    containers = [
        {
            "name": f"c{i}",
            "image": image,
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }
        for i, image in enumerate(images)
    ]
    return {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "0d8c1a3e-6a43-4b9e-9d0b-6a2f0d1c5e11",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "sample",
            "namespace": "default",
            "operation": "CREATE",
            "userInfo": {"username": "developer", "groups": ["system:authenticated"]},
            "object": {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {"name": "sample", "namespace": "default", "labels": {"app": "sample"}},
                "spec": {
                    "containers": containers,
                    "restartPolicy": "Always",
                    "serviceAccountName": "default",
                },
            },
            "oldObject": None,
            "dryRun": False,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        },
    }

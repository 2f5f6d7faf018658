"""Shared by the audit's integration and end-to-end tests: real images, real API objects.

:func:`push_images` puts three small images in a real registry — a single-stage Go build
(``toolchain-base``, denied), a small clean image, and one with a 2 MB layer (over the
1 MB ``oversize-layer`` threshold of :data:`CONFIG`). :func:`create_chain` creates a
Deployment, a ReplicaSet it owns and pods the ReplicaSet owns, through the API server —
with no controller-manager running, nothing else would make them.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from slimgate.cluster.api import Json, KubeApi
from slimgate.errors import KubeError
from tests.support.images import ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer

GO_PATH = (
    "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

GOLANG_APP = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:4b1b8d0a0d5f in / ", 300_000),
        ('/bin/sh -c #(nop)  CMD ["bash"]', None),
        (
            "/bin/sh -c set -eux; apt-get update; apt-get install -y --no-install-recommends "
            "g++ gcc libc6-dev make pkg-config; rm -rf /var/lib/apt/lists/*",
            600_000,
        ),
        ("ENV GOLANG_VERSION=1.23.4", None),
        ("ENV GOTOOLCHAIN=local", None),
        ("ENV GOPATH=/go", None),
        (f"ENV {GO_PATH}", None),
        ("COPY /target/ / # buildkit", 900_000),
        ("WORKDIR /src", None),
        ("COPY . . # buildkit", 4096),
        ("RUN /bin/sh -c go build -o /usr/local/bin/api ./cmd/api # buildkit", 50_000),
        ('CMD ["/usr/local/bin/api"]', None),
    ),
    env=(GO_PATH, "GOLANG_VERSION=1.23.4", "GOTOOLCHAIN=local", "GOPATH=/go"),
    cmd=("/usr/local/bin/api",),
)
SMALL_APP = ImageSpec(env=("PATH=/usr/bin:/bin", "APP=small"))
BIG_LAYER_APP = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:0123abcd in / ", 4096),
        ("COPY assets/ /srv/assets # buildkit", 2_000_000),
        ('/bin/sh -c #(nop)  CMD ["/srv/run"]', None),
    ),
    env=("PATH=/usr/bin:/bin", "APP=assets"),
)

CONFIG = """\
registry:
  insecure: [{insecure}]
  knownToolchainImages: []
policy:
  thresholds: {{layerMegabytes: 1, imageMegabytes: 1000}}
operator:
  excludedNamespaces: [kube-system]
"""


@dataclass(frozen=True)
class Images:
    golang: str
    golang_v2: str
    small: str
    big: str


def push_images(registry_url: str, host: str) -> Images:
    push(registry_url, "team/api", "1.4", build_image(GOLANG_APP))
    push(registry_url, "team/api", "1.5", build_image(GOLANG_APP))
    push(registry_url, "team/small", "1.0", build_image(SMALL_APP))
    push(registry_url, "team/assets", "1.0", build_image(BIG_LAYER_APP))
    return Images(
        golang=f"{host}/team/api:1.4",
        golang_v2=f"{host}/team/api:1.5",
        small=f"{host}/team/small:1.0",
        big=f"{host}/team/assets:1.0",
    )


def config_text(*insecure: str) -> str:
    return CONFIG.format(insecure=", ".join(insecure))


def _template(image: str, app: str) -> Json:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def _owner(obj: Json) -> Json:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def create_pod(
    api: KubeApi,
    namespace: str,
    name: str,
    image: str,
    owner: Json | None = None,
    labels: dict[str, str] | None = None,
    pull_secrets: tuple[str, ...] = (),
) -> Json:
    meta: Json = {"name": name, "labels": labels or {"app": name}}
    if owner is not None:
        meta["ownerReferences"] = [_owner(owner)]
    spec: Json = {"containers": [{"name": "app", "image": image}]}
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in pull_secrets]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    return api.create("v1", "pods", namespace, body)


def push_private(registry: RegistryServer, repository: str, user: str, password: str) -> str:
    """The single-stage Go image behind a registry that needs a login; its reference."""
    built = build_image(GOLANG_APP)
    push(
        registry.url,
        repository,
        "1.4",
        built,
        username=user,
        password=password,
        verify=registry.verify,
    )
    return f"{registry.host}/{repository}:1.4"


def create_pull_secret(
    api: KubeApi, namespace: str, name: str, host: str, user: str, password: str
) -> Json:
    """A ``kubernetes.io/dockerconfigjson`` Secret with a login for ``host``."""
    document = json.dumps({"auths": {host: {"username": user, "password": password}}})
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()},
    }
    return api.create("v1", "secrets", namespace, body)


def create_chain(
    api: KubeApi, namespace: str, name: str, image: str, replicas: int
) -> tuple[Json, Json, list[Json]]:
    """Deployment → ReplicaSet → ``replicas`` pods, linked by ownerReferences."""
    labels = {"app": name}
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": _template(image, name),
    }
    deployment = api.create(
        "apps/v1",
        "deployments",
        namespace,
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec},
    )
    rs_name = f"{name}-{os.urandom(3).hex()}"
    replica_set = api.create(
        "apps/v1",
        "replicasets",
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "ownerReferences": [_owner(deployment)]},
            "spec": spec,
        },
    )
    pods = [
        create_pod(
            api,
            namespace,
            f"{rs_name}-{i}",
            image,
            replica_set,
            {**labels, "pod-template-hash": "x"},
        )
        for i in range(replicas)
    ]
    return deployment, replica_set, pods


def create_cronjob_chain(api: KubeApi, namespace: str, name: str, image: str) -> Json:
    """CronJob → Job → one pod."""
    pod_spec = {"containers": [{"name": "app", "image": image}], "restartPolicy": "Never"}
    job_spec = {"template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}
    cronjob = api.create(
        "batch/v1",
        "cronjobs",
        namespace,
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name},
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job_spec}},
        },
    )
    job = api.create(
        "batch/v1",
        "jobs",
        namespace,
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"{name}-29000000", "ownerReferences": [_owner(cronjob)]},
            "spec": job_spec,
        },
    )
    create_pod(api, namespace, f"{name}-29000000-abcde", image, job, {"app": name})
    return cronjob


def create_namespace(api: KubeApi, name: str) -> None:
    try:
        api.create(
            "v1",
            "namespaces",
            "",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
    except KubeError as exc:
        if exc.status != 409:
            raise

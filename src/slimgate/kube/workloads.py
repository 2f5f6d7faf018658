"""Where a workload keeps its pod spec, and what runs in it.

Every controller that creates pods embeds a ``PodTemplateSpec``: at ``spec.template`` for
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController and Job, one level
deeper for CronJob (``spec.jobTemplate.spec.template``). A Pod is its own template. The
webhook and the audit operator both use this module to go from an object to the images it
runs, each with the field path Kubernetes uses in its messages
(``spec.template.spec.initContainers[1].image``).

Objects are raw JSON (Kubernetes API reference, core/v1 PodSpec); an object of an unexpected
shape raises :class:`ObjectShapeError` naming the field. Pure: no Kubernetes client here.

A ``limit`` bounds how many containers are read: the API server sets no maximum number of
containers (only the 3 MiB request body), so a Pod can carry some 90,000 of them. The
containers past the limit are not looked at, only counted (:attr:`PodTemplate.unread`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slimgate.errors import ObjectShapeError
from slimgate.kube.placement import Placement, read_placement

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

# (API group, kind) -> path of the PodTemplateSpec inside the object; () is the object itself.
TEMPLATE_PATHS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (),
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("", "ReplicationController"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
    # Retired groups that older clients may still name; the shape is the same.
    ("extensions", "Deployment"): ("spec", "template"),
    ("extensions", "DaemonSet"): ("spec", "template"),
    ("extensions", "ReplicaSet"): ("spec", "template"),
}

# The container lists of a PodSpec, in the order Kubernetes starts them.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class ContainerImage:
    """One container's image, with where it sits in the object as submitted."""

    path: str  # "spec.template.spec.containers[0].image"
    section: str  # "containers" | "initContainers" | "ephemeralContainers"
    index: int
    name: str
    image: str

    @property
    def container_path(self) -> str:
        """The container's own path, without the trailing ``.image``."""
        return self.path.removesuffix(".image")


@dataclass(frozen=True, slots=True)
class PullAccess:
    """Whose registry credentials a pod pulls with (the kubelet's view): the pod's
    ``imagePullSecrets`` and those of its ServiceAccount, in its namespace."""

    namespace: str
    service_account: str = "default"
    pull_secrets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """What the pods of a workload will be: labels, identity, pull secrets, images."""

    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    service_account: str = "default"
    pull_secrets: tuple[str, ...] = ()
    images: tuple[ContainerImage, ...] = ()
    unread: int = 0  # containers past the limit the template was read with
    placement: Placement = field(default_factory=Placement)  # nodeSelector, node affinity

    @property
    def is_mirror_pod(self) -> bool:
        """A static pod's mirror: the kubelet created it, the apiserver cannot stop it."""
        return self.kind == "Pod" and MIRROR_ANNOTATION in self.annotations

    @property
    def workload(self) -> str:
        return f"{self.kind}/{self.name}" if self.name else self.kind

    @property
    def access(self) -> PullAccess:
        return PullAccess(self.namespace, self.service_account, self.pull_secrets)


def supported(group: str, kind: str) -> bool:
    """True when slimgate knows where this kind keeps its pod template."""
    return (group, kind) in TEMPLATE_PATHS


def template_path(group: str, kind: str) -> tuple[str, ...] | None:
    return TEMPLATE_PATHS.get((group, kind))


def read_template(
    obj: Mapping[str, Any], group: str, kind: str, limit: int | None = None
) -> PodTemplate | None:
    """The pod template of ``obj``, or None when ``kind`` has none (unsupported kind); with
    ``limit``, at most that many containers are read and the rest only counted.

    Raises :class:`ObjectShapeError` when a field on the way has the wrong type.
    """
    path = template_path(group, kind)
    if path is None:
        return None
    metadata = _mapping(obj.get("metadata"), "metadata")
    template, spec, spec_path = _walk(obj, path)
    prefix = ".".join(path)
    tmeta = metadata if not path else _mapping(template.get("metadata"), f"{prefix}.metadata")
    labels = {**_strings(metadata.get("labels"), "metadata.labels")}
    if path:
        labels.update(_strings(tmeta.get("labels"), f"{prefix}.metadata.labels"))
    name = metadata.get("name") or metadata.get("generateName") or ""
    namespace = metadata.get("namespace") or ""
    if not isinstance(name, str) or not isinstance(namespace, str):
        raise ObjectShapeError("metadata.name and metadata.namespace must be strings")
    access = pull_access(spec, namespace, spec_path)
    images, unread = read_containers(spec, spec_path, limit)
    return PodTemplate(
        kind=kind,
        namespace=namespace,
        name=name,
        labels=labels,
        annotations=_strings(metadata.get("annotations"), "metadata.annotations"),
        service_account=access.service_account,
        pull_secrets=access.pull_secrets,
        images=images,
        unread=unread,
        placement=read_placement(spec, spec_path),
    )


def template_images(
    obj: Mapping[str, Any], group: str, kind: str, limit: int | None = None
) -> tuple[ContainerImage, ...] | None:
    """Only the container images of ``obj``'s pod template (what an UPDATE's old object is
    compared by), at most ``limit`` of them; None when ``kind`` has none. Raises
    :class:`ObjectShapeError`."""
    path = template_path(group, kind)
    if path is None:
        return None
    _, spec, spec_path = _walk(obj, path)
    return read_containers(spec, spec_path, limit)[0]


def _walk(
    obj: Mapping[str, Any], path: tuple[str, ...]
) -> tuple[Mapping[str, Any], Mapping[str, Any], str]:
    """The pod template at ``path``, its spec, and the spec's field path."""
    template: Mapping[str, Any] = obj
    for depth, key in enumerate(path, 1):
        template = _mapping(template.get(key), ".".join(path[:depth]))
    prefix = ".".join(path)
    spec_path = f"{prefix}.spec" if prefix else "spec"
    return template, _mapping(template.get("spec"), spec_path), spec_path


def pull_access(spec: Mapping[str, Any], namespace: str, spec_path: str = "spec") -> PullAccess:
    """The ServiceAccount and ``imagePullSecrets`` of a pod spec.

    Raises :class:`ObjectShapeError` when either has the wrong type.
    """
    service_account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if not isinstance(service_account, str):
        raise ObjectShapeError(f"{spec_path}.serviceAccountName is not a string")
    secrets = _pull_secrets(spec.get("imagePullSecrets"), spec_path)
    return PullAccess(namespace, service_account, secrets)


def read_containers(
    spec: Mapping[str, Any], spec_path: str = "spec", limit: int | None = None
) -> tuple[tuple[ContainerImage, ...], int]:
    """The containers of a PodSpec with an image, in the order Kubernetes starts them, at
    most ``limit`` list entries read; and how many entries were left unread."""
    found: list[ContainerImage] = []
    read = 0
    unread = 0
    for section in CONTAINER_LISTS:
        items = spec.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            raise ObjectShapeError(f"{spec_path}.{section} is not a list")
        if limit is not None and read + len(items) > limit:
            unread += read + len(items) - limit
            items = items[: limit - read]
        read += len(items)
        for index, container in enumerate(items):
            where = f"{spec_path}.{section}[{index}]"
            if not isinstance(container, dict):
                raise ObjectShapeError(f"{where} is not an object")
            image = container.get("image")
            name = container.get("name", "")
            if image is None:
                continue  # the apiserver rejects it later; nothing for us to check
            if not isinstance(image, str) or not isinstance(name, str):
                raise ObjectShapeError(f"{where}.image and {where}.name must be strings")
            if image.strip():
                found.append(ContainerImage(f"{where}.image", section, index, name, image))
    return tuple(found), unread


def changed_images(
    new: tuple[ContainerImage, ...], old: tuple[ContainerImage, ...]
) -> tuple[ContainerImage, ...]:
    """The containers of ``new`` whose image is new or changed relative to ``old``.

    Containers are matched by list and name (names are unique within a pod), so reordering
    containers or scaling a workload evaluates nothing.
    """
    before = {(c.section, c.name): c.image for c in old}
    return tuple(c for c in new if before.get((c.section, c.name)) != c.image)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise ObjectShapeError(f"{where} is not an object")


def _strings(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise ObjectShapeError(f"{where} is not a map of strings")


def _pull_secrets(value: object, spec_path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ObjectShapeError(f"{spec_path}.imagePullSecrets is not a list")
    names: list[str] = []
    for i, ref in enumerate(value):
        if not isinstance(ref, dict):
            raise ObjectShapeError(f"{spec_path}.imagePullSecrets[{i}] is not an object")
        # The API accepts an entry without a name and serves it back as {} (an empty
        # string is omitted); the kubelet ignores it, and so do we.
        name = ref.get("name") or ""
        if not isinstance(name, str):
            raise ObjectShapeError(f"{spec_path}.imagePullSecrets[{i}].name is not a string")
        if name:
            names.append(name)
    return tuple(names)

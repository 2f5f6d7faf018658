"""Workload kinds -> pod template -> images with field paths; UPDATE diffs; mirror pods."""

from __future__ import annotations

import pytest

from slimgate.errors import ObjectShapeError
from slimgate.kube.workloads import changed_images, read_template, supported
from tests.support import admission

TEMPLATE_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]


def paths(obj: dict, group: str, kind: str) -> list[tuple[str, str]]:
    template = read_template(obj, group, kind)
    assert template is not None
    return [(c.path, c.image) for c in template.images]


def test_pod_lists_containers_init_and_ephemeral_with_field_paths() -> None:
    obj = admission.pod(["app:1", "side:2"], init=["init:1", "migrate:3"], ephemeral=["busybox"])
    assert paths(obj, "", "Pod") == [
        ("spec.initContainers[0].image", "init:1"),
        ("spec.initContainers[1].image", "migrate:3"),
        ("spec.containers[0].image", "app:1"),
        ("spec.containers[1].image", "side:2"),
        ("spec.ephemeralContainers[0].image", "busybox"),
    ]


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_template_kinds_use_spec_template(kind: str) -> None:
    group = admission.GROUPS[kind][0]
    obj = admission.workload(kind, ["app:1"], init=["init:1", "init:2"])
    assert paths(obj, group, kind) == [
        ("spec.template.spec.initContainers[0].image", "init:1"),
        ("spec.template.spec.initContainers[1].image", "init:2"),
        ("spec.template.spec.containers[0].image", "app:1"),
    ]


def test_replication_controller_is_a_core_kind() -> None:
    obj = admission.workload("ReplicationController", ["app:1"])
    assert paths(obj, "", "ReplicationController") == [
        ("spec.template.spec.containers[0].image", "app:1")
    ]


def test_cronjob_goes_through_the_job_template() -> None:
    obj = admission.workload("CronJob", ["app:1"])
    assert paths(obj, "batch", "CronJob") == [
        ("spec.jobTemplate.spec.template.spec.containers[0].image", "app:1")
    ]


def test_unsupported_kind_has_no_template() -> None:
    assert not supported("", "ConfigMap")
    assert read_template({"metadata": {}}, "", "ConfigMap") is None
    assert not supported("", "Deployment")  # a Deployment lives in apps


def test_template_carries_identity_pull_secrets_and_labels() -> None:
    obj = admission.workload(
        "Deployment", ["app:1"], pull_secrets=["regcred"], service_account="builder"
    )
    obj["metadata"]["labels"] = {"team": "a", "app": "outer"}
    template = read_template(obj, "apps", "Deployment")
    assert template is not None
    assert template.service_account == "builder"
    assert template.pull_secrets == ("regcred",)
    assert template.labels == {"team": "a", "app": "web"}  # the pods' labels win
    assert template.workload == "Deployment/web"


def test_generate_name_stands_in_for_a_missing_name() -> None:
    obj = admission.pod(["app:1"])
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "web-7d9f-"
    template = read_template(obj, "", "Pod")
    assert template is not None
    assert template.name == "web-7d9f-"


def test_mirror_pod_is_recognised_by_its_annotation() -> None:
    obj = admission.pod(["etcd:3.5"], annotations={"kubernetes.io/config.mirror": "abc"})
    template = read_template(obj, "", "Pod")
    assert template is not None
    assert template.is_mirror_pod
    plain = read_template(admission.pod(["etcd:3.5"]), "", "Pod")
    assert plain is not None
    assert not plain.is_mirror_pod


def test_changed_images_keeps_only_new_or_changed_containers() -> None:
    old = read_template(admission.workload("Deployment", ["app:1", "side:1"]), "apps", "Deployment")
    new = read_template(
        admission.workload("Deployment", ["app:2", "side:1"], init=["init:1"]), "apps", "Deployment"
    )
    assert old is not None
    assert new is not None
    changed = changed_images(new.images, old.images)
    assert [(c.path, c.image) for c in changed] == [
        ("spec.template.spec.initContainers[0].image", "init:1"),
        ("spec.template.spec.containers[0].image", "app:2"),
    ]


def test_reordering_containers_changes_nothing() -> None:
    old = read_template(admission.pod(["a:1", "b:1"]), "", "Pod")
    obj = admission.pod(["a:1", "b:1"])
    obj["spec"]["containers"].reverse()
    new = read_template(obj, "", "Pod")
    assert old is not None
    assert new is not None
    assert changed_images(new.images, old.images) == ()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o["spec"].__setitem__("containers", {"name": "x"}), "spec.containers"),
        (lambda o: o["spec"]["containers"].__setitem__(0, "nginx"), "spec.containers[0]"),
        (lambda o: o["spec"]["containers"][0].__setitem__("image", 7), "spec.containers[0].image"),
        (lambda o: o.__setitem__("spec", []), "spec"),
        (lambda o: o["metadata"].__setitem__("labels", {"a": 1}), "metadata.labels"),
        (lambda o: o["spec"].__setitem__("imagePullSecrets", [7]), "imagePullSecrets[0]"),
        (
            lambda o: o["spec"].__setitem__("imagePullSecrets", [{"name": 7}]),
            "imagePullSecrets[0].name",
        ),
    ],
)
def test_unexpected_shapes_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    obj = admission.pod(["app:1"])
    mutate(obj)
    with pytest.raises(ObjectShapeError, match=field.replace("[", r"\[").replace("]", r"\]")):
        read_template(obj, "", "Pod")


def test_pull_secret_entries_without_a_name_are_ignored_as_the_kubelet_does() -> None:
    """The API accepts ``imagePullSecrets: [{}]`` (sidecar injectors have written it)."""
    obj = admission.pod(["app:1"])
    obj["spec"]["imagePullSecrets"] = [{}, {"name": ""}, {"name": "regcred"}]
    template = read_template(obj, "", "Pod")
    assert template is not None
    assert template.pull_secrets == ("regcred",)


def test_container_without_image_is_ignored() -> None:
    obj = admission.pod(["app:1", "x"])
    del obj["spec"]["containers"][1]["image"]
    assert paths(obj, "", "Pod") == [("spec.containers[0].image", "app:1")]


def test_a_limit_reads_containers_in_start_order_and_counts_the_rest() -> None:
    obj = admission.pod(["app:1", "side:2", "x:3"], init=["init:1", "migrate:3"], ephemeral=["b"])
    template = read_template(obj, "", "Pod", limit=3)
    assert template is not None
    assert [c.path for c in template.images] == [
        "spec.initContainers[0].image",
        "spec.initContainers[1].image",
        "spec.containers[0].image",
    ]
    assert template.unread == 3
    unlimited = read_template(obj, "", "Pod")
    assert unlimited is not None
    assert (len(unlimited.images), unlimited.unread) == (6, 0)


def test_entries_past_the_limit_are_counted_not_read() -> None:
    obj = admission.pod(["app:1"])
    obj["spec"]["containers"].extend(["not a container"] * 5)  # never looked at
    template = read_template(obj, "", "Pod", limit=1)
    assert template is not None
    assert [c.image for c in template.images] == ["app:1"]
    assert template.unread == 5

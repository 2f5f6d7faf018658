"""The node platforms a pod may run on, from its nodeSelector and required node affinity."""

from __future__ import annotations

from typing import Any

import pytest

from slimgate.errors import ObjectShapeError
from slimgate.kube.placement import narrow, read_placement
from slimgate.kube.workloads import read_template
from slimgate.model import Platform

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
WINDOWS = Platform("windows", "amd64")
CLUSTER = (ARM64, AMD64, WINDOWS)  # as listed
CLUSTER_SORTED = (AMD64, ARM64, WINDOWS)


def required(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    selector = {"nodeSelectorTerms": [{"matchExpressions": list(t)} for t in terms]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


def platforms(spec: dict[str, Any]) -> tuple[Platform, ...]:
    return narrow(CLUSTER, read_placement(spec))


def test_no_placement_runs_anywhere_in_the_cluster() -> None:
    assert platforms({}) == CLUSTER_SORTED


def test_node_selector_on_arch_and_os() -> None:
    assert platforms({"nodeSelector": {"kubernetes.io/arch": "arm64"}}) == (ARM64,)
    assert platforms({"nodeSelector": {"kubernetes.io/os": "linux"}}) == (AMD64, ARM64)
    pair = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "disk": "ssd"}
    assert platforms({"nodeSelector": pair}) == (AMD64,)


def test_required_affinity_in_and_not_in() -> None:
    arch = "kubernetes.io/arch"
    assert platforms({"affinity": required([expr(arch, "In", "amd64")])}) == (AMD64, WINDOWS)
    linux_not_arm = [expr("kubernetes.io/os", "In", "linux"), expr(arch, "NotIn", "arm64")]
    assert platforms({"affinity": required(linux_not_arm)}) == (AMD64,)


def test_terms_are_alternatives_and_other_keys_narrow_nothing() -> None:
    affinity = required(
        [expr("kubernetes.io/arch", "In", "arm64")],
        [expr("kubernetes.io/os", "In", "windows"), expr("zone", "In", "a")],
    )
    assert platforms({"affinity": affinity}) == (ARM64, WINDOWS)
    assert platforms({"affinity": required([expr("zone", "In", "a")])}) == CLUSTER_SORTED


def test_selector_and_affinity_both_apply() -> None:
    spec = {
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": required([expr("kubernetes.io/arch", "NotIn", "amd64")]),
    }
    assert platforms(spec) == (ARM64,)


def test_a_platform_no_node_has_is_evaluated_when_the_selector_names_it() -> None:
    spec = {"nodeSelector": {"kubernetes.io/arch": "s390x"}}
    assert platforms(spec) == (Platform("linux", "s390x"),)
    # Nothing it names: every platform of the cluster, rather than nothing at all.
    spec = {"affinity": required([expr("kubernetes.io/arch", "In", "riscv64")])}
    assert platforms(spec) == CLUSTER_SORTED


def test_preferred_affinity_narrows_nothing() -> None:
    term = {"matchExpressions": [expr("kubernetes.io/arch", "In", "arm64")]}
    preferred = [{"weight": 1, "preference": term}]
    spec = {
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}
    }
    assert platforms(spec) == CLUSTER_SORTED


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"nodeSelector": ["kubernetes.io/arch"]}, "spec.nodeSelector"),
        ({"affinity": {"nodeAffinity": []}}, "spec.affinity.nodeAffinity"),
        (
            {
                "affinity": required(
                    [{"key": "kubernetes.io/arch", "operator": "In", "values": "a"}]
                )
            },
            "values",
        ),
    ],
)
def test_malformed_placement_is_a_shape_error(spec: dict[str, Any], where: str) -> None:
    with pytest.raises(ObjectShapeError, match=where):
        read_placement(spec)


def test_a_workload_template_carries_its_placement() -> None:
    deployment = {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {
                "spec": {
                    "nodeSelector": {"kubernetes.io/arch": "arm64"},
                    "containers": [{"name": "app", "image": "example/app:1"}],
                }
            }
        },
    }
    template = read_template(deployment, "apps", "Deployment")
    assert template is not None
    assert narrow(CLUSTER, template.placement) == (ARM64,)

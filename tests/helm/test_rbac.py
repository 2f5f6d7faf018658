"""Least privilege: what each component's ServiceAccount may do, and nothing more."""

from __future__ import annotations

from tests.support.chart import Helm, Manifest, Rendering

FULLNAME = "slimgate"
RBAC_KINDS = ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


def grants(role: Manifest) -> set[tuple[str, str, str]]:
    """Every (apiGroup, resource, verb) the role allows."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def bound_to(rendering: Rendering, account: str) -> list[Manifest]:
    """The roles bound to ServiceAccount ``account``."""
    roles = []
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in rendering.all(kind):
            if any(
                s["kind"] == "ServiceAccount" and s["name"] == account for s in binding["subjects"]
            ):
                ref = binding["roleRef"]
                roles.append(rendering.one(ref["kind"], ref["name"]))
    return roles


def test_webhook_has_no_api_access_without_pull_secrets(helm: Helm) -> None:
    rendering = helm.template()
    assert bound_to(rendering, f"{FULLNAME}-webhook") == []
    webhook_rbac = [
        m
        for kind in RBAC_KINDS
        for m in rendering.all(kind)
        if m["metadata"]["labels"]["app.kubernetes.io/component"] == "webhook"
    ]
    assert webhook_rbac == []


def test_webhook_may_only_get_secrets_and_serviceaccounts_with_pull_secrets(helm: Helm) -> None:
    rendering = helm.template(values={"config.registry.pullSecrets": True})
    (role,) = bound_to(rendering, f"{FULLNAME}-webhook")
    assert grants(role) == {("", "secrets", "get"), ("", "serviceaccounts", "get")}


def test_webhook_may_read_nodes_only_with_platforms_auto(helm: Helm) -> None:
    rendering = helm.template(values={"config.registry.platforms": "auto"})
    (role,) = bound_to(rendering, f"{FULLNAME}-webhook")
    assert grants(role) == {("", "nodes", "get"), ("", "nodes", "list"), ("", "nodes", "watch")}
    account = rendering.one("ServiceAccount", f"{FULLNAME}-webhook")
    assert account["automountServiceAccountToken"] is True
    both = helm.template(
        values={"config.registry.platforms": "auto", "config.registry.pullSecrets": True}
    )
    (role,) = bound_to(both, f"{FULLNAME}-webhook")
    assert ("", "secrets", "get") in grants(role)
    assert ("", "nodes", "watch") in grants(role)
    operator = [
        r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"
    ]
    assert {("", "nodes", "list"), ("", "nodes", "watch")} <= grants(operator[0])
    without = [
        r for r in bound_to(helm.template(), f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"
    ]
    assert not any(resource == "nodes" for _, resource, _ in grants(without[0]))


def test_operator_reads_workloads_and_writes_reports(helm: Helm) -> None:
    rendering = helm.template()
    (role,) = [r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"]
    allowed = grants(role)
    watched = [
        ("", "pods"),
        ("", "replicationcontrollers"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("", "namespaces"),
    ]
    for group, resource in watched:
        for verb in ("list", "watch"):
            assert (group, resource, verb) in allowed, (group, resource, verb)
        # Reading is all: the operator never changes a workload.
        for verb in ("create", "update", "patch", "delete"):
            assert (group, resource, verb) not in allowed, (group, resource, verb)

    # The default writes PolicyReports only; get and update only on slimgate's own report.
    report_rules = [r for r in role["rules"] if "policyreports" in r["resources"]]
    assert {v for g, r, v in allowed if (g, r) == ("wgpolicyk8s.io", "policyreports")} == {
        "create",
        "list",
        "watch",
        "get",
        "update",
    }
    for rule in report_rules:
        if {"get", "update"} & set(rule["verbs"]):
            assert rule["resourceNames"] == ["slimgate"]
            assert set(rule["verbs"]) == {"get", "update"}
        else:
            assert "resourceNames" not in rule
    # No cluster-scoped report kind (none is written), no delete or patch, no other API.
    for group, resource in (
        ("wgpolicyk8s.io", "clusterpolicyreports"),
        ("openreports.io", "reports"),
        ("openreports.io", "clusterreports"),
    ):
        assert not [v for g, r, v in allowed if (g, r) == (group, resource)], (group, resource)
    assert not [v for g, r, v in allowed if r == "policyreports" and v in {"delete", "patch"}]

    assert ("", "events", "create") in allowed
    assert ("events.k8s.io", "events", "create") in allowed
    # kopf observes the cluster; the operator runs it standalone (no peering).
    assert ("apiextensions.k8s.io", "customresourcedefinitions", "watch") in allowed
    assert not any(g in {"kopf.dev", "zalando.org"} for g, _, _ in allowed)
    # Secrets only with pull-secret reading; leases only in its own namespace.
    assert not any(r in {"secrets", "leases"} for _, r, _ in allowed)


def test_operator_leader_election_is_confined_to_its_lease(helm: Helm) -> None:
    rendering = helm.template(namespace="tools")
    roles = [r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "Role"]
    (role,) = roles
    assert role["metadata"]["namespace"] == "tools"
    rules = {(tuple(r["verbs"]), tuple(r.get("resourceNames", ()))) for r in role["rules"]}
    assert rules == {(("create",), ()), (("get", "update"), (f"{FULLNAME}-operator",))}
    assert all(r["apiGroups"] == ["coordination.k8s.io"] for r in role["rules"])
    assert all(r["resources"] == ["leases"] for r in role["rules"])


def test_report_grants_follow_the_report_api(helm: Helm) -> None:
    for reports, group, absent in (
        ("policyreport", "wgpolicyk8s.io", "openreports.io"),
        ("openreports", "openreports.io", "wgpolicyk8s.io"),
    ):
        rendering = helm.template(values={"operator.reports": reports})
        (role,) = [
            r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"
        ]
        groups = {g for g, _, _ in grants(role)}
        assert group in groups
        assert absent not in groups


def test_operator_reads_pull_secrets_only_when_enabled(helm: Helm) -> None:
    rendering = helm.template(values={"config.registry.pullSecrets": True})
    (role,) = [r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"]
    secrets = {v for g, r, v in grants(role) if (g, r) == ("", "secrets")}
    assert secrets == {"get"}


def test_no_wildcards_anywhere(helm: Helm) -> None:
    rendering = helm.template(values={"config.registry.pullSecrets": True})
    for kind in ("Role", "ClusterRole"):
        for role in rendering.all(kind):
            for group, resource, verb in grants(role):
                assert "*" not in (group, resource, verb), role["metadata"]["name"]


def test_openreports_rbac_follows_the_report_api(helm: Helm) -> None:
    rendering = helm.template(values={"operator.reports": "both"})
    (role,) = [r for r in bound_to(rendering, f"{FULLNAME}-operator") if r["kind"] == "ClusterRole"]
    allowed = grants(role)
    for group, resource in (("wgpolicyk8s.io", "policyreports"), ("openreports.io", "reports")):
        verbs = {v for g, r, v in allowed if (g, r) == (group, resource)}
        assert verbs == {"create", "list", "watch", "get", "update"}

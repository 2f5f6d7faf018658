"""`helm lint --strict` passes for the defaults and for every ci/ values set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chart import CI_VALUES, KUBE_VERSION, Helm


def test_every_tls_mode_and_policy_mode_has_a_ci_values_set() -> None:
    names = {path.name for path in CI_VALUES}
    for tls_mode in ("helm", "certmanager", "secret"):
        assert f"tls-{tls_mode}-values.yaml" in names
    for policy_mode in ("enforce", "warn", "audit"):
        assert f"mode-{policy_mode}-values.yaml" in names


@pytest.mark.parametrize(
    "values_file", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults"
)
def test_lint_strict_passes(helm: Helm, values_file: Path | None) -> None:
    args = ["lint", "--strict", str(helm.chart), "--kube-version", KUBE_VERSION]
    if values_file is not None:
        args += ["--values", str(values_file)]
    result = helm.run(*args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[ERROR]" not in output
    assert "[WARNING]" not in output
    assert "0 chart(s) failed" in output

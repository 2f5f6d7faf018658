"""``slimgate check`` as a subprocess: exit codes, the JSON contract, the table, transports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.command import slimgate
from tests.integration.cli.images import GOLANG_APP, SMALL_APP
from tests.support.archives import write_docker_archive, write_oci_archive
from tests.support.complex_images import repeated_step_image
from tests.support.images import ImageSpec, build_image, build_index, write_oci_layout

RESULT_KEYS = {"image", "digest", "platform", "decision", "compressed_size", "findings", "error"}
FINDING_KEYS = {
    "rule",
    "severity",
    "action",
    "message",
    "layer",
    "created_by",
    "size",
    "remediation",
}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layouts")
    amd_clean = build_image(SMALL_APP)
    arm_golang = build_image(
        ImageSpec(history=GOLANG_APP.history, env=GOLANG_APP.env, architecture="arm64")
    )
    return {
        "golang": write_oci_layout(root / "golang", build_image(GOLANG_APP), omit_layers=True),
        "small": write_oci_layout(root / "small", build_image(SMALL_APP), omit_layers=True),
        "multi": write_oci_layout(
            root / "multi", build_index([amd_clean, arm_golang]), omit_layers=True
        ),
    }


def test_allowed_image_exits_0_with_the_json_contract(layouts: dict[str, Path]) -> None:
    image = f"oci:{layouts['small']}"
    run = slimgate("check", "--output", "json", image)
    assert run.returncode == 0, run.stderr
    document = run.json()
    assert list(document) == ["results"]
    (result,) = document["results"]
    assert set(result) >= RESULT_KEYS
    assert result["image"] == image
    assert result["digest"].startswith("sha256:")
    assert result["platform"] == "linux/amd64"
    assert result["decision"] == "allow"
    assert isinstance(result["compressed_size"], int)
    assert result["compressed_size"] > 0
    assert result["findings"] == []
    assert result["error"] is None


def test_denied_image_exits_1_with_its_findings(layouts: dict[str, Path]) -> None:
    run = slimgate("check", "-o", "json", f"oci:{layouts['golang']}")
    assert run.returncode == 1, run.stderr
    (result,) = run.json()["results"]
    assert result["decision"] == "deny"
    assert result["base"]["name"] == "golang"
    findings = {f["rule"]: f for f in result["findings"]}
    assert set(findings) == {"toolchain-base", "build-in-final-image"}
    for finding in result["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["action"] == "deny"
        assert len(finding["message"]) <= 120
    build = findings["build-in-final-image"]
    assert build["layer"] == 4
    assert "go build" in build["created_by"]
    assert isinstance(build["size"], int)
    assert build["remediation"]
    assert "`slimgate fix Dockerfile` writes that multi-stage build" in run.stderr


def test_unreadable_image_exits_2_and_follows_on_registry_error(tmp_path: Path) -> None:
    missing = f"oci:{tmp_path / 'nowhere'}"
    run = slimgate("check", "-o", "json", missing)
    assert run.returncode == 2
    (result,) = run.json()["results"]
    assert result["decision"] == "warn"  # the default onRegistryError
    assert result["digest"] is None
    assert result["compressed_size"] is None
    assert "not a directory" in result["error"]
    assert [f["rule"] for f in result["findings"]] == ["registry-error"]
    assert f"{missing} (linux/amd64): " in run.stderr


def test_on_registry_error_deny_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "slimgate.yaml"
    config.write_text("policy:\n  onRegistryError: deny\n")
    run = slimgate("check", "-o", "json", "--config", config, f"oci:{tmp_path / 'nowhere'}")
    assert run.returncode == 2
    assert run.json()["results"][0]["decision"] == "deny"


def test_worst_exit_code_over_several_images(layouts: dict[str, Path], tmp_path: Path) -> None:
    small, golang = f"oci:{layouts['small']}", f"oci:{layouts['golang']}"
    run = slimgate("check", "-o", "json", small, golang)
    assert run.returncode == 1
    assert [r["image"] for r in run.json()["results"]] == [small, golang]
    assert [r["decision"] for r in run.json()["results"]] == ["allow", "deny"]
    unreadable = slimgate("check", "-o", "json", golang, f"oci:{tmp_path / 'nowhere'}")
    assert unreadable.returncode == 2


def test_warn_mode_lets_the_toolchain_image_through(
    layouts: dict[str, Path], tmp_path: Path
) -> None:
    config = tmp_path / "slimgate.yaml"
    config.write_text("policy:\n  mode: warn\n")
    run = slimgate("check", "-o", "json", "-c", config, f"oci:{layouts['golang']}")
    assert run.returncode == 0
    (result,) = run.json()["results"]
    assert (result["decision"], result["enforced"], result["mode"]) == ("warn", "deny", "warn")


def test_exemption_by_namespace(layouts: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "slimgate.yaml"
    config.write_text(
        "policy:\n  exemptions:\n    - namespaces: [legacy]\n      reason: moving to multi-stage\n"
    )
    image = f"oci:{layouts['golang']}"
    exempt = slimgate("check", "-o", "json", "-c", config, "--namespace", "legacy", image)
    assert exempt.returncode == 0
    assert exempt.json()["results"][0]["exemption"] == {
        "reason": "moving to multi-stage",
        "expires": None,
    }
    assert slimgate("check", "-c", config, "--namespace", "prod", image).returncode == 1


def test_two_platforms_with_different_outcomes_the_worst_wins(layouts: dict[str, Path]) -> None:
    image = f"oci:{layouts['multi']}"
    amd = slimgate("check", "-o", "json", "--platform", "linux/amd64", image)
    arm = slimgate("check", "-o", "json", "--platform", "linux/arm64", image)
    assert (amd.returncode, amd.json()["results"][0]["decision"]) == (0, "allow")
    assert (arm.returncode, arm.json()["results"][0]["decision"]) == (1, "deny")
    both = slimgate(
        "check", "-o", "json", "--platform", "linux/amd64", "--platform", "linux/arm64", image
    )
    assert both.returncode == 1
    (result,) = both.json()["results"]
    assert result["decision"] == "deny"
    assert result["platform"] == "linux/arm64"
    assert [(p["platform"], p["decision"]) for p in result["platforms"]] == [
        ("linux/amd64", "allow"),
        ("linux/arm64", "deny"),
    ]


def test_missing_platform_in_the_index_is_exit_2(layouts: dict[str, Path]) -> None:
    run = slimgate("check", "-o", "json", "--platform", "linux/s390x", f"oci:{layouts['multi']}")
    assert run.returncode == 2
    assert "no image for platform linux/s390x" in run.json()["results"][0]["error"]


def test_table_output_is_for_people(layouts: dict[str, Path]) -> None:
    run = slimgate("check", f"oci:{layouts['golang']}", f"oci:{layouts['small']}")
    assert run.returncode == 1
    out = run.stdout
    assert "DENY" in out
    assert "ALLOW" in out
    assert "base: golang" in out
    assert "toolchain-base" in out
    assert "size (compressed)" in out
    assert "MB" in out
    assert "fix:" in out
    assert "saves ~" in out
    assert "2 image(s): 1 allowed, 0 warned, 1 denied" in out


@pytest.mark.parametrize(
    "args",
    [
        ("check",),
        ("check", "--platform", "amd64", "oci:/x"),
        ("check", "--output", "yaml", "oci:/x"),
        ("check", "--label", "novalue", "oci:/x"),
        ("frobnicate",),
    ],
)
def test_wrong_usage_exits_2(args: tuple[str, ...]) -> None:
    run = slimgate(*args)
    assert run.returncode == 2
    assert run.stderr.strip()


def test_bad_config_exits_2_naming_the_line(tmp_path: Path) -> None:
    config = tmp_path / "slimgate.yaml"
    config.write_text("policy:\n  mode: strict\n")
    run = slimgate("check", "-c", config, "oci:/x")
    assert run.returncode == 2
    assert f"{config}:2: policy.mode:" in run.stderr


def test_archives(tmp_path: Path) -> None:
    golang, small = build_image(GOLANG_APP), build_image(SMALL_APP)
    oci_archive = write_oci_archive(tmp_path / "oci.tar", small)
    legacy = write_docker_archive(tmp_path / "legacy.tar", [(golang, ["app:1"])])
    bare = write_docker_archive(tmp_path / "bare.tar", [(golang, ["app:1"])], include_layers=False)
    modern = write_docker_archive(tmp_path / "modern.tar", [(small, ["small:1"])], form="oci")
    run = slimgate(
        "check",
        "-o",
        "json",
        f"oci-archive:{oci_archive}",
        f"docker-archive:{legacy}",
        f"docker-archive:{bare}",
        f"docker-archive:{modern}",
    )
    assert run.returncode == 1, run.stderr
    results = run.json()["results"]
    assert [r["decision"] for r in results] == ["allow", "deny", "deny", "allow"]
    assert results[0]["digest"] == small.digest
    assert results[1]["digest"] is None
    assert any("uncompressed" in note for note in results[1]["notes"])
    assert results[2]["compressed_size"] == 0
    assert any("counted as 0" in note for note in results[2]["notes"])
    assert results[3]["digest"] == small.digest


def test_a_credentials_file_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "slimgate.yaml"
    config.write_text(f"registry:\n  dockerConfig: {tmp_path / 'missing.json'}\n")
    run = slimgate("check", "--config", config, "--lineage", "off", "registry.invalid/app:1")
    assert run.returncode == 2  # not 1 ("denied"), and no traceback
    assert "missing.json" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_reported_59871_step_config_is_too_complex_with_bounded_output(
    tmp_path: Path,
) -> None:
    """4 MB of ``apt-get install gcc`` steps printed 59,871 findings and 35 MB of JSON."""
    layout = write_oci_layout(tmp_path / "gcc", repeated_step_image(), omit_layers=True)
    run = slimgate("check", "--output", "json", f"oci:{layout}")
    assert run.returncode == 2, run.stderr  # not evaluated, as an unreadable image
    assert "too complex to analyse: 59,871 history entries (limit 1,000)" in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stdout) < 5_000
    (result,) = run.json()["results"]
    assert result["decision"] == "warn"  # onRegistryError: warn, the default
    assert [f["rule"] for f in result["findings"]] == ["too-complex"]

"""``slimgate check`` against a real registry (Debian's docker-registry on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.command import slimgate
from tests.integration.cli.images import GOLANG_APP, SMALL_APP
from tests.support.images import ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

TOOLCHAIN = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:77aa21e3 in / ", 6000),
        ("/bin/sh -c /opt/setup-build-tools.sh", 9000),
    ),
)
ON_TOOLCHAIN = ImageSpec(
    history=(*TOOLCHAIN.history, ("COPY app /app # buildkit", 700), ('CMD ["/app"]', None)),
)


def test_registry_images_are_read_over_plain_http_when_allowed(
    plain_registry: RegistryServer,
) -> None:
    golang, small = build_image(GOLANG_APP), build_image(SMALL_APP)
    push(plain_registry.url, "cli/api", "1.0", golang)
    push(plain_registry.url, "cli/small", "1.0", small)
    api_ref = f"{plain_registry.host}/cli/api:1.0"
    small_ref = f"{plain_registry.host}/cli/small:1.0"
    run = slimgate(
        "check",
        "-o",
        "json",
        "--lineage",
        "off",
        "--insecure-registry",
        plain_registry.host,
        api_ref,
        small_ref,
    )
    assert run.returncode == 1, run.stderr
    api, clean = run.json()["results"]
    assert (api["image"], api["digest"], api["decision"]) == (api_ref, golang.digest, "deny")
    assert api["compressed_size"] == sum(layer.size for layer in golang.layers)
    assert (clean["image"], clean["digest"], clean["decision"]) == (
        small_ref,
        small.digest,
        "allow",
    )


def test_loopback_registry_is_refused_without_insecure_registry(
    plain_registry: RegistryServer,
) -> None:
    push(plain_registry.url, "cli/small", "2.0", build_image(SMALL_APP))
    run = slimgate(
        "check", "-o", "json", "--lineage", "off", f"{plain_registry.host}/cli/small:2.0"
    )
    assert run.returncode == 2
    (result,) = run.json()["results"]
    assert result["decision"] == "warn"
    assert result["error"]
    assert result["digest"] is None


def test_lineage_recognises_a_configured_toolchain_by_its_layers(
    plain_registry: RegistryServer, tmp_path: Path
) -> None:
    push(plain_registry.url, "build/toolchain", "1", build_image(TOOLCHAIN))
    app = build_image(ON_TOOLCHAIN)
    push(plain_registry.url, "cli/on-toolchain", "1", app)
    config = tmp_path / "slimgate.yaml"
    config.write_text(
        "registry:\n"
        f"  insecure: ['{plain_registry.host}']\n"
        "  knownToolchainImages:\n"
        f"    - {{image: '{plain_registry.host}/build/toolchain:1', name: internal toolchain}}\n"
    )
    run = slimgate("check", "-o", "json", "-c", config, f"{plain_registry.host}/cli/on-toolchain:1")
    assert run.returncode == 1, run.stderr
    (result,) = run.json()["results"]
    assert result["digest"] == app.digest
    assert result["base"]["name"] == "internal toolchain"
    assert result["base"]["method"] == "lineage"
    assert [f["rule"] for f in result["findings"]] == ["toolchain-base"]


def test_unreachable_known_toolchain_images_do_not_clutter_the_output(
    plain_registry: RegistryServer,
) -> None:
    # --lineage auto resolves the built-in toolchain images on Docker Hub, which this
    # machine may not reach: that is no news for a person checking a local registry image.
    push(plain_registry.url, "cli/quiet", "1.0", build_image(SMALL_APP))
    run = slimgate(
        "check",
        "--insecure-registry",
        plain_registry.host,
        f"{plain_registry.host}/cli/quiet:1.0",
    )
    assert run.returncode == 0, run.stderr
    assert "lineage" not in run.stderr
    assert "Traceback" not in run.stderr

"""Settings: the built-in configuration read without the validator equals the validated one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from slimgate.config import load_config, parse_config
from slimgate.settings import default_document, load_settings


def test_default_settings_equal_the_validated_defaults() -> None:
    fast = load_settings(None)
    validated = load_config(None).settings()
    assert fast.policy == validated.policy
    assert fast.platforms == validated.platforms
    assert fast.toolchain_images == validated.toolchain_images
    assert fast.docker_config == validated.docker_config
    assert fast.lookup_seconds == validated.lookup_seconds
    assert fast.limits() == validated.limits()
    assert fast.registry_options(insecure=["h:1"]) == validated.registry_options(insecure=["h:1"])
    assert fast.knowledge() == validated.knowledge()


def test_the_built_in_document_validates_unchanged() -> None:
    """Validation adds and changes nothing in the built-in document, which is what lets
    ``load_settings(None)`` skip the validator."""
    assert load_config(None).model_dump(by_alias=True) == default_document()


def test_a_file_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "slimgate.yaml"
    path.write_text(
        textwrap.dedent(
            """
            policy:
              mode: audit
              exemptions: [{images: ["golang:*"], reason: r, expires: 2027-01-01}]
            registry:
              knownToolchainImages: [registry.example/tools/golang:1]
            """
        )
    )
    settings = load_settings(path)
    assert settings == parse_config(path.read_text()).settings()
    assert settings.policy.exemptions[0].expires is not None
    (image,) = settings.toolchain_images
    assert (image.reference, image.name) == ("registry.example/tools/golang:1", "golang")


def test_default_settings_do_not_load_the_validator() -> None:
    code = (
        "import sys\n"
        "from slimgate.settings import load_settings\n"
        "load_settings(None)\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"

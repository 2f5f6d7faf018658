"""Settings: the built-in configuration read without the validator equals the validated one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from slimgate.config import _schema, load_settings, parse_settings
from slimgate.config.reader import DEFAULT_SOURCE, default_text, load_yaml


def test_default_settings_equal_the_validated_defaults() -> None:
    assert load_settings(None) == parse_settings(None)
    assert load_settings(None) == parse_settings(default_text())


def test_the_built_in_document_validates_unchanged() -> None:
    """Validation adds and changes nothing in the built-in document, which is what lets
    ``load_settings(None)`` skip the validator."""
    document, _ = load_yaml(default_text(), DEFAULT_SOURCE)
    assert _schema.validate(None, "<config>") == document


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
    assert settings == parse_settings(path.read_text())
    assert settings.policy.exemptions[0].expires is not None
    (image,) = settings.registry.toolchain_images
    assert (image.reference, image.name) == ("registry.example/tools/golang:1", "golang")


def test_default_settings_do_not_load_the_validator() -> None:
    code = (
        "import sys\n"
        "from slimgate.config import load_settings\n"
        "load_settings(None)\n"
        "print('pydantic' in sys.modules, 'httpx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False False"

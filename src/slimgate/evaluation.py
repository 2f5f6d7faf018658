"""The engine's front door: image reference + who runs it -> a decision, for every driver.

The webhook, the operator and the CLI all call :class:`Evaluator`, so they can never
disagree. Image metadata comes through the :class:`ImageSource` protocol; the composition
root passes the real registry client, an OCI layout reader, or a fake in unit tests.
"""

from __future__ import annotations

from typing import Protocol

from slimgate.model import ImageMetadata, Platform


class ImageSource(Protocol):
    """Anything that can produce an image's manifest and config for one platform.

    Implementations raise :class:`slimgate.errors.RegistryError` subclasses on failure.
    """

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata: ...

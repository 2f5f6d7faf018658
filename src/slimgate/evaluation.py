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


# --- Contract for the Evaluator (implemented by the policy/CLI work) -----------------------
#
# @dataclass(frozen=True, slots=True)
# class ImageResult:
#     image: str                      # as given in the pod spec / on the command line
#     platform: Platform              # the platform whose decision is reported (the worst one)
#     decision: Decision              # slimgate.policy.decision.Decision
#     metadata: ImageMetadata | None  # None when the image could not be read
#     analysis: Analysis | None
#     error: str | None               # why the image could not be evaluated (registry error)
#     digest / compressed_size        # properties read from metadata
#
# class Evaluator:
#     def __init__(self, source: ImageSource, policy: Policy, knowledge: Knowledge,
#                  *, today: Callable[[], date]) -> None
#     def evaluate(self, image: str, subject: Subject,
#                  platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)) -> ImageResult
#         # several platforms: the worst decision wins; a RegistryError becomes the
#         # policy's onRegistryError decision with a `registry-error` finding and `error` set
#     def unreadable(self, image: str, subject: Subject, reason: str,
#                    platform: Platform = DEFAULT_PLATFORM) -> ImageResult
#         # the same onRegistryError decision, for callers whose deadline expired

"""Pair history entries with the layers they made, robustly.

The image spec lists history oldest first, one non-``empty_layer`` entry per layer. Two
real deviations:

* bazelbuild/rules_docker (``container/go/pkg/compat/config.go``) *prepends* its
  ``bazel build ...`` entry for each layer it adds while the diff id is appended, so the
  leading ``bazel build`` entries describe the last layers, newest first, and pairing by
  position quotes each base step one layer off. Those entries are moved to the end,
  oldest first (rules_oci appends, as the spec says, and needs nothing).
* squashed or hand-made configs whose non-empty entries do not match the layers in
  number: no entry is paired, and :func:`mismatch` says so for the findings to quote.
"""

from __future__ import annotations

from slimgate.model import HistoryEntry, ImageMetadata

_BAZEL = "bazel build"


def _reordered(history: tuple[HistoryEntry, ...]) -> tuple[HistoryEntry, ...]:
    head = 0
    while head < len(history) and history[head].created_by.startswith(_BAZEL):
        head += 1
    rest = history[head:]
    if head == 0 or not any(e.created_by and not e.created_by.startswith(_BAZEL) for e in rest):
        return history
    return rest + tuple(reversed(history[:head]))


def paired(image: ImageMetadata) -> list[tuple[HistoryEntry, int | None]]:
    """Each history entry (in build order) with the index of the layer it made, or None
    for an empty entry or when the pairing is unknowable."""
    history = image.config.history
    if history and history[0].created_by.startswith(_BAZEL):
        history = _reordered(history)
    result: list[tuple[HistoryEntry, int | None]] = []
    layer_index = 0
    for entry in history:
        if entry.empty_layer:
            result.append((entry, None))
        else:
            result.append((entry, layer_index))
            layer_index += 1
    if layer_index != len(image.layers):  # not aligned: no entry owns a known layer
        return [(entry, None) for entry, _ in result]
    return result


def mismatch(image: ImageMetadata) -> str | None:
    """Why history and layers cannot be paired, for findings to say (None: they can)."""
    owners = sum(1 for entry in image.config.history if not entry.empty_layer)
    if not image.config.history or owners == len(image.layers):
        return None
    return (
        f"history has {owners} layer entries for {len(image.layers)} layers: "
        "which step made which layer is unknown"
    )

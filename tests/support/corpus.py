"""Load the corpus of real image metadata (tests/fixtures/corpus/*.json) as ImageMetadata.

Each file records one official image for one platform, from docker-library's repo-info:
``source`` (where and when it was recorded), ``reference``, ``platform``, ``layers``
(``digest``, ``size`` compressed), ``config`` (``env``, ``labels``, ``history`` with
``created_by``/``empty_layer``), optionally ``digest``, ``mediaType``, ``annotations`` and
``expect`` (what the corpus author says the image is).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from slimgate.model import (
    DOCKER_MANIFEST,
    Descriptor,
    HistoryEntry,
    ImageConfig,
    ImageMetadata,
    Platform,
)

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


BUILDERS = CORPUS.parent / "builders"


def names(folder: Path = CORPUS) -> list[str]:
    """Every corpus case, by file stem."""
    return sorted(path.stem for path in folder.glob("*.json"))


def raw(name: str, folder: Path = CORPUS) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return data


def from_dict(data: dict[str, Any]) -> ImageMetadata:
    config = data.get("config", {})
    platform = Platform.parse(data.get("platform", "linux/amd64"))
    history = tuple(
        HistoryEntry(
            created_by=entry.get("created_by", ""),
            empty_layer=bool(entry.get("empty_layer", False)),
            created=entry.get("created"),
            comment=entry.get("comment"),
        )
        for entry in config.get("history", [])
    )
    return ImageMetadata(
        reference=data["reference"],
        digest=data.get("digest"),
        platform=platform,
        media_type=data.get("mediaType", DOCKER_MANIFEST),
        config_digest=data.get("configDigest", "sha256:" + "0" * 64),
        layers=tuple(
            Descriptor(layer.get("mediaType", LAYER_TYPE), layer["digest"], int(layer["size"]))
            for layer in data["layers"]
        ),
        config=ImageConfig(
            os=platform.os,
            architecture=platform.architecture,
            variant=platform.variant,
            env=tuple(config.get("env", [])),
            labels=dict(config.get("labels") or {}),
            history=history,
            entrypoint=tuple(config.get("entrypoint") or ()),
            cmd=tuple(config.get("cmd") or ()),
            working_dir=config.get("workingDir", "") or "",
            user=config.get("user", "") or "",
            diff_ids=tuple(config.get("diffIds") or ()),
        ),
        annotations=dict(data.get("annotations") or {}),
        index_digest=(data.get("source") or {}).get("index_digest")
        if isinstance(data.get("source"), dict)
        else None,
    )


def load(name: str, folder: Path = CORPUS) -> ImageMetadata:
    """The corpus case ``name`` (a file stem, e.g. ``golang-1-bookworm``)."""
    return from_dict(raw(name, folder))


def extend(
    base: ImageMetadata,
    steps: list[tuple[str, int | None]],
    *,
    reference: str = "registry.example/team/app:1",
    env: tuple[str, ...] = (),
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> ImageMetadata:
    """An application image built FROM ``base``: each step is ``(created_by, layer size)``;
    a size of None makes an empty-layer entry (ENV, CMD...). Layer digests are derived from
    the step text so they are stable and distinct."""
    import hashlib

    layers = list(base.layers)
    history = list(base.config.history)
    for created_by, size in steps:
        history.append(HistoryEntry(created_by=created_by, empty_layer=size is None))
        if size is not None:
            digest = hashlib.sha256(f"{len(layers)}:{created_by}".encode()).hexdigest()
            layers.append(Descriptor(LAYER_TYPE, f"sha256:{digest}", size))
    config = replace(
        base.config,
        env=base.config.env + env,
        labels={**base.config.labels, **(labels or {})},
        history=tuple(history),
    )
    return replace(
        base,
        reference=reference,
        digest=None,
        layers=tuple(layers),
        config=config,
        annotations=annotations or {},
    )

"""Images and Dockerfiles built to be expensive to analyse, within every size cap.

The worst case measured against slimgate was an image config that repeats one RUN step
(``apt-get install gcc``) as often as the 4 MiB config cap allows: 59,871 history entries,
each a toolchain install that is never removed.
"""

from __future__ import annotations

import json

from slimgate.model import HistoryEntry, ImageConfig, ImageMetadata, Platform
from tests.support.images import OCI_CONFIG, OCI_MANIFEST, Blob, BuiltImage, ImageSpec

CONFIG_CAP = 4 * 1024 * 1024  # registry.limits.configBytes by default
GCC_STEP = "/bin/sh -c apt-get install gcc"
GCC_STEPS = 59_871  # as in the report: 4.0 MB of config with the entry below


def history_config(created_by: str, count: int) -> bytes:
    """An image config whose history is ``count`` empty-layer entries of ``created_by``."""
    entry = json.dumps({"created_by": created_by, "empty_layer": True}, separators=(",", ":"))
    head = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers"}},
        separators=(",", ":"),
    )
    return (head[:-1] + ',"history":[' + ",".join([entry] * count) + "]}").encode()


def repeated_step_image(created_by: str = GCC_STEP, count: int = GCC_STEPS) -> BuiltImage:
    """An image without layers whose config repeats one history step ``count`` times."""
    config = Blob(OCI_CONFIG, history_config(created_by, count))
    if config.size > CONFIG_CAP:
        raise ValueError(f"{count} entries make {config.size} bytes, over the config cap")
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [],
    }
    manifest = Blob(
        OCI_MANIFEST,
        json.dumps(manifest_doc, separators=(",", ":")).encode(),
        platform={"os": "linux", "architecture": "amd64"},
    )
    return BuiltImage(spec=ImageSpec(history=()), manifest=manifest, config=config, layers=())


def repeated_step_dockerfile(line: str = "RUN apt-get install gcc", count: int = GCC_STEPS) -> str:
    """A Dockerfile of one FROM and ``count`` copies of ``line``."""
    return "FROM debian:bookworm\n" + (line + "\n") * count


def repeated_step_metadata(created_by: str = GCC_STEP, count: int = GCC_STEPS) -> ImageMetadata:
    """What a source reads from :func:`repeated_step_image`, built directly."""
    built = repeated_step_image(created_by, count)
    history = tuple(HistoryEntry(created_by=created_by, empty_layer=True) for _ in range(count))
    return ImageMetadata(
        reference="registry.example/hostile/gcc:1",
        digest=built.digest,
        platform=Platform(),
        media_type=OCI_MANIFEST,
        config_digest=built.config.digest,
        layers=(),
        config=ImageConfig(history=history),
    )

"""From a top document to one platform's image: [index ->] manifest -> config.

Every reader walks the same steps (image-index.md, manifest.md, config.md): the registry
client over a repository's documents, the OCI layout and ``docker save`` readers over blobs
on disk. A reader implements :class:`Blobs` (read a manifest or index, read a config blob,
both checked against their descriptors) and :func:`walk` does the rest, with the same
checks and error texts whatever the source:

- a document whose kind (index or manifest) is not the one its descriptor names is refused;
- an index is narrowed to the platform asked for (attestations are never chosen);
- an index inside an index is refused (nothing that ships images writes one);
- a manifest whose config is not an image config (a Helm chart, an artifact) is refused.

:func:`image_metadata` is the one place :class:`~slimgate.model.ImageMetadata` is built.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from slimgate.errors import Unsupported
from slimgate.model import INDEX_TYPES, Descriptor, ImageConfig, ImageMetadata, Platform
from slimgate.oci.documents import CONFIG_TYPES, Index, Manifest, choose_platform, parse_config


class Blobs(Protocol):
    """The documents of one image's place: a registry repository, a layout's blobs."""

    @property
    def label(self) -> str:
        """What error messages call the place: the registry's host, ``oci:./layout``."""
        ...

    def name(self, digest: str) -> str:
        """How error messages name a document of this place (``team/api@sha256:...``)."""
        ...

    def manifest(self, descriptor: Descriptor) -> Manifest | Index:
        """The manifest or index ``descriptor`` points to, read and checked."""
        ...

    def config(self, descriptor: Descriptor) -> bytes:
        """The config blob ``descriptor`` points to, read and checked."""
        ...


def walk(
    blobs: Blobs,
    top: Descriptor,
    platform: Platform,
    *,
    written: str,
    names: Collection[str] = (),
) -> ImageMetadata:
    """The image ``top`` points to, for ``platform``.

    ``top`` may name no media type (a registry answers for a tag or digest with whatever it
    holds). ``written`` is the reference as given; ``names`` are annotation keys that name
    the place the image was read from rather than the image (a layout's ref names): they
    are left out of the metadata.
    """
    document = _read(blobs, top)
    annotations = dict(top.annotations)
    digest, chosen, index_digest = top.digest, top.platform, None
    if isinstance(document, Index):
        what = f"{blobs.label}: {blobs.name(digest)}"
        entry = choose_platform(document, platform, what=what, registry=blobs.label)
        annotations.update(document.annotations)
        annotations.update(entry.annotations)
        index_digest, digest, chosen = digest, entry.digest, entry.platform
        document = _read(blobs, entry)
        if isinstance(document, Index):
            raise _unsupported(blobs, digest, "is an index inside an index; not supported")
    annotations.update(document.annotations)
    config_descriptor = document.config
    if config_descriptor.media_type not in CONFIG_TYPES:
        raise _unsupported(
            blobs,
            digest,
            f"is not a container image (config media type {config_descriptor.media_type!r})",
        )
    config = parse_config(
        blobs.config(config_descriptor),
        what=f"{blobs.label}: config {blobs.name(config_descriptor.digest)}",
        registry=blobs.label,
    )
    for key in names:
        annotations.pop(key, None)
    return image_metadata(
        written,
        digest,
        document,
        config,
        platform=chosen,
        annotations=annotations,
        index_digest=index_digest,
    )


def _read(blobs: Blobs, descriptor: Descriptor) -> Manifest | Index:
    document = blobs.manifest(descriptor)
    if descriptor.media_type:
        labelled_index = descriptor.media_type in INDEX_TYPES
        if labelled_index and not isinstance(document, Index):
            raise _unsupported(blobs, descriptor.digest, "is labelled an index but is a manifest")
        if not labelled_index and isinstance(document, Index):
            raise _unsupported(blobs, descriptor.digest, "is labelled a manifest but is an index")
    return document


def _unsupported(blobs: Blobs, digest: str, what: str) -> Unsupported:
    return Unsupported(f"{blobs.label}: {blobs.name(digest)} {what}", registry=blobs.label)


def image_metadata(
    written: str,
    digest: str | None,
    manifest: Manifest,
    config: ImageConfig,
    *,
    platform: Platform | None = None,
    annotations: Mapping[str, str] | None = None,
    index_digest: str | None = None,
    notes: tuple[str, ...] = (),
) -> ImageMetadata:
    """The metadata of one image; its platform is the index entry's, else the config's."""
    return ImageMetadata(
        reference=written,
        digest=digest,
        platform=platform or Platform(config.os, config.architecture, config.variant),
        media_type=manifest.media_type,
        config_digest=manifest.config.digest,
        layers=manifest.layers,
        config=config,
        annotations=dict(manifest.annotations if annotations is None else annotations),
        index_digest=index_digest,
        notes=notes,
    )

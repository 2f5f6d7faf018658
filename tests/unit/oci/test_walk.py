"""The one walk every reader takes: [index ->] platform -> manifest -> config, in memory."""

from __future__ import annotations

import pytest

from slimgate.errors import Unsupported
from slimgate.model import Descriptor, Platform
from slimgate.oci.documents import Index, Manifest, parse_document
from slimgate.oci.walk import walk
from tests.support.images import (
    OCI_INDEX,
    OCI_MANIFEST,
    Blob,
    BuiltImage,
    ImageSpec,
    build_image,
    build_index,
    canonical_json,
)

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64", "v8")


class MemoryBlobs:
    """Blobs kept by digest; every read is recorded, to show the walk reads nothing extra."""

    label = "mem:"

    def __init__(self, *blobs: Blob) -> None:
        self.blobs = {blob.digest: blob for blob in blobs}
        self.reads: list[str] = []

    def name(self, digest: str) -> str:
        return f"img@{digest[:15]}"

    def manifest(self, descriptor: Descriptor) -> Manifest | Index:
        self.reads.append(descriptor.digest)
        blob = self.blobs[descriptor.digest]
        return parse_document(
            blob.data, blob.media_type, what="mem", registry="mem", max_entries=10
        )

    def config(self, descriptor: Descriptor) -> bytes:
        self.reads.append(descriptor.digest)
        return self.blobs[descriptor.digest].data


def descriptor(blob: Blob, media_type: str | None = None, **annotations: str) -> Descriptor:
    return Descriptor(
        blob.media_type if media_type is None else media_type,
        blob.digest,
        blob.size,
        annotations=annotations,
    )


def stored(*images: BuiltImage, extra: tuple[Blob, ...] = ()) -> MemoryBlobs:
    return MemoryBlobs(*(b for i in images for b in (i.manifest, i.config)), *extra)


def test_a_manifest_is_read_with_its_config_and_nothing_else() -> None:
    image = build_image(ImageSpec(architecture="arm64", variant="v8"))
    blobs = stored(image)
    found = walk(blobs, descriptor(image.manifest, ""), AMD64, written="img:1")
    assert (found.reference, found.digest, found.index_digest) == ("img:1", image.digest, None)
    assert found.platform == ARM64  # no index: the config says which platform it is
    assert found.config_digest == image.config.digest
    assert blobs.reads == [image.digest, image.config.digest]


def test_an_index_is_narrowed_to_the_platform_skipping_attestations() -> None:
    amd, arm = build_image(), build_image(ImageSpec(architecture="arm64", variant="v8"))
    index = build_index([amd, arm], annotations={"from": "index"})
    blobs = stored(*index.images, extra=(index.index,))
    found = walk(blobs, descriptor(index.index, ""), ARM64, written="img:1")
    assert (found.digest, found.index_digest, found.platform) == (arm.digest, index.digest, ARM64)
    assert found.annotations["from"] == "index"
    assert blobs.reads == [index.digest, arm.digest, arm.config.digest]


def test_a_missing_platform_names_what_the_index_has() -> None:
    index = build_index([build_image()])
    blobs = stored(*index.images, extra=(index.index,))
    with pytest.raises(Unsupported, match=r"^mem:: img@.*no image for platform linux/arm64/v8"):
        walk(blobs, descriptor(index.index), ARM64, written="img:1")


def test_an_index_inside_an_index_is_refused() -> None:
    inner = build_index([build_image()], attestation=False)
    entry = {**inner.index.descriptor(), "platform": {"os": "linux", "architecture": "amd64"}}
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    outer_blob = Blob(OCI_INDEX, canonical_json(doc))
    blobs = stored(*inner.images, extra=(inner.index, outer_blob))
    with pytest.raises(Unsupported, match="is an index inside an index; not supported"):
        walk(blobs, descriptor(outer_blob), AMD64, written="img:1")


def test_a_manifest_of_something_else_than_an_image_is_refused() -> None:
    config = Blob("application/vnd.cncf.helm.config.v1+json", b"{}")
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor()}
    chart = Blob(OCI_MANIFEST, canonical_json({**doc, "layers": []}))
    with pytest.raises(Unsupported, match=r"is not a container image \(config media type"):
        walk(MemoryBlobs(chart, config), descriptor(chart), AMD64, written="chart:1")


@pytest.mark.parametrize(
    ("labelled", "message"),
    [(OCI_INDEX, "labelled an index but is a manifest"), (OCI_MANIFEST, "labelled a manifest")],
)
def test_a_document_of_another_kind_than_its_descriptor_names_is_refused(
    labelled: str, message: str
) -> None:
    image = build_image()
    index = build_index([image], attestation=False)
    blobs = stored(image, extra=(index.index,))
    target = image.manifest if labelled == OCI_INDEX else index.index
    with pytest.raises(Unsupported, match=message):
        walk(blobs, descriptor(target, labelled), AMD64, written="img:1")


def test_annotations_gather_in_order_and_names_of_the_place_are_left_out() -> None:
    image = build_image(ImageSpec(annotations={"layer": "manifest"}))
    index = build_index([image], attestation=False, annotations={"layer": "index", "i": "1"})
    blobs = stored(image, extra=(index.index,))
    top = descriptor(index.index, None, **{"layer": "entry", "ref.name": "v1", "e": "1"})
    found = walk(blobs, top, AMD64, written="img:1", names=("ref.name",))
    assert found.annotations == {"layer": "manifest", "i": "1", "e": "1"}

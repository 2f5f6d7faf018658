"""The values every part of slimgate exchanges: platforms, descriptors, image config, metadata.

slimgate decides about an image from two documents only: its manifest (which lists the
compressed layer sizes) and its config blob (environment, labels and the build history).
These frozen dataclasses are the shape of that knowledge once it has left the registry
client; nothing here does I/O.

References: the OCI image spec (https://github.com/opencontainers/image-spec), the image
config (config.md) and its ``history`` array, where ``empty_layer`` entries own no layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slimgate.errors import InvalidPlatform

# Media types (OCI image spec, Docker image manifest v2 schema 2).
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)

# OCI annotations that name the base image (image-spec annotations.md).
BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name"
BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest"
SOURCE_ANNOTATION = "org.opencontainers.image.source"


@dataclass(frozen=True, slots=True)
class Platform:
    """An ``os/architecture[/variant]`` triple, as in an OCI index entry."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidPlatform(
                f"invalid platform {text!r}: expected os/arch or os/arch/variant, "
                "for example linux/amd64 or linux/arm64/v8"
            )
        variant = parts[2] if len(parts) == 3 else None
        return cls(os=parts[0], architecture=parts[1], variant=variant)

    def matches(self, other: Platform) -> bool:
        """True when ``other`` (an index entry) serves this requested platform.

        A request without variant accepts any variant; ``arm64`` treats a missing variant
        and ``v8`` as the same, as containerd's platform matcher does.
        """
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        if self.variant is None:
            return True
        if self.architecture == "arm64" and {self.variant, other.variant} <= {"v8", None}:
            return True
        return self.variant == other.variant

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


DEFAULT_PLATFORM = Platform()


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or a child manifest."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One entry of the config's ``history``; ``empty_layer`` entries own no layer blob."""

    created_by: str = ""
    empty_layer: bool = False
    created: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of the image config blob that the analysis reads."""

    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None
    env: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""

    def env_map(self) -> dict[str, str]:
        """The environment as a mapping; a later definition of a name wins."""
        return {name: value for name, _, value in (item.partition("=") for item in self.env)}


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer blob tied to the history entry that created it."""

    index: int
    digest: str
    size: int  # compressed bytes, as the manifest reports them
    created_by: str | None  # None when the history does not line up with the layers


@dataclass(frozen=True, slots=True)
class ImageMetadata:
    """Everything slimgate knows about one image for one platform: manifest plus config.

    ``reference`` is the image as the user wrote it; ``digest`` is the digest of the
    platform-specific manifest (None when it could not be known, e.g. a docker-archive).
    """

    reference: str
    digest: str | None
    platform: Platform
    media_type: str
    config_digest: str
    layers: tuple[Descriptor, ...]
    config: ImageConfig
    annotations: Mapping[str, str] = field(default_factory=dict)
    index_digest: str | None = None
    # What the reader could not know or had to approximate, for people to read (a
    # docker-archive without layer tars has no layer sizes: they count as 0).
    notes: tuple[str, ...] = ()

    @property
    def compressed_size(self) -> int:
        """Sum of the compressed layer sizes from the manifest (what a pull transfers)."""
        return sum(layer.size for layer in self.layers)

    def layer_history(self) -> tuple[Layer, ...]:
        """Pair each layer with the history entry that created it.

        History entries marked ``empty_layer`` own no blob and are skipped. When the number
        of non-empty entries differs from the number of layers (squashed or hand-made
        images), the pairing is unknowable and ``created_by`` is None.
        """
        owners = [entry for entry in self.config.history if not entry.empty_layer]
        aligned = len(owners) == len(self.layers)
        return tuple(
            Layer(
                index=i,
                digest=desc.digest,
                size=desc.size,
                created_by=owners[i].created_by if aligned else None,
            )
            for i, desc in enumerate(self.layers)
        )

    def labels_and_annotations(self) -> dict[str, str]:
        """Config labels overlaid with manifest annotations (annotations are stronger)."""
        return {**self.config.labels, **self.annotations}


@dataclass(frozen=True, slots=True)
class Subject:
    """Who runs an image: the context that policy exemptions match against."""

    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    workload: str | None = None  # "Deployment/web", for messages and reports
    container: str | None = None

"""Build real (small) container images in memory, push them, or write them as OCI layouts.

An image is described by an :class:`ImageSpec`: its build history, one ``(created_by,
layer)`` pair per step, where ``layer`` is the bytes of a file the step adds, an ``int`` for
a file of that many bytes, or ``None`` for a step that makes no layer (``empty_layer``).
:func:`build_image` turns it into gzip'd tar layers, a config and an OCI or Docker schema 2
manifest; :func:`build_index` puts images (plus, by default, a BuildKit-style attestation
manifest for ``unknown/unknown``) into an OCI index or Docker manifest list.

:func:`push` uploads through the Distribution API (monolithic ``POST`` + ``PUT`` for blobs,
``PUT`` for manifests), answering basic and bearer challenges itself; it is a test tool, not
the product's client. :func:`write_oci_layout` writes the OCI image layout
(image-spec image-layout.md) that the CLI reads.

    image = build_image(ImageSpec(history=[("FROM golang", 2048), ("ENV X=1", None)]))
    index = build_index([image, build_image(ImageSpec(architecture="arm64"))])
    digest = push("http://127.0.0.1:5000", "team/app", "1.0", index)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import ssl
import tarfile
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"

Layer = bytes | int | None


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Mapping[str, str] | None = None

    @property
    def digest(self) -> str:
        return sha256(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.annotations:
            result["annotations"] = dict(self.annotations)
        if self.platform:
            result["platform"] = dict(self.platform)
        return result


@dataclass(frozen=True)
class ImageSpec:
    """What an image is made of; every field has a small, valid default."""

    history: Sequence[tuple[str, Layer]] = (
        ("/bin/sh -c #(nop) ADD file:0123abcd in / ", 256),
        ('/bin/sh -c #(nop)  CMD ["sh"]', None),
    )
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None
    media: Literal["oci", "docker"] = "oci"
    entrypoint: Sequence[str] = ()
    cmd: Sequence[str] = ("sh",)
    user: str = ""
    working_dir: str = ""

    @property
    def platform(self) -> dict[str, str]:
        result = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            result["variant"] = self.variant
        return result


@dataclass(frozen=True)
class BuiltImage:
    spec: ImageSpec
    manifest: Blob
    config: Blob
    layers: tuple[Blob, ...]

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def images(self) -> tuple[BuiltImage, ...]:
        """The manifests to publish with it, as an index has them: itself."""
        return (self,)

    def blobs(self) -> tuple[Blob, ...]:
        return (*self.layers, self.config)


@dataclass(frozen=True)
class BuiltIndex:
    index: Blob
    images: tuple[BuiltImage, ...]  # every manifest the index lists, attestations included

    @property
    def manifest(self) -> Blob:
        return self.index

    @property
    def digest(self) -> str:
        return self.index.digest


Built = BuiltImage | BuiltIndex


def _layer_tar(step: int, layer: bytes | int) -> tuple[bytes, bytes]:
    """A gzip'd tar holding one file; returns (compressed, uncompressed)."""
    if isinstance(layer, int):
        content = random.Random(step * 7919 + layer).randbytes(layer)
    else:
        content = layer
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"layer{step}/file.bin")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), uncompressed


def build_image(spec: ImageSpec | None = None) -> BuiltImage:
    """Make the layers, config and manifest that ``spec`` describes."""
    spec = spec or ImageSpec()
    docker = spec.media == "docker"
    layers: list[Blob] = []
    diff_ids: list[str] = []
    history: list[dict[str, Any]] = []
    for step, (created_by, layer) in enumerate(spec.history):
        entry: dict[str, Any] = {"created": "2024-01-01T00:00:00Z", "created_by": created_by}
        if layer is None:
            entry["empty_layer"] = True
        else:
            compressed, uncompressed = _layer_tar(step, layer)
            layers.append(Blob(DOCKER_LAYER if docker else OCI_LAYER, compressed))
            diff_ids.append(sha256(uncompressed))
        history.append(entry)
    inner: dict[str, Any] = {"Env": list(spec.env), "Cmd": list(spec.cmd)}
    if spec.labels:
        inner["Labels"] = dict(spec.labels)
    if spec.entrypoint:
        inner["Entrypoint"] = list(spec.entrypoint)
    if spec.user:
        inner["User"] = spec.user
    if spec.working_dir:
        inner["WorkingDir"] = spec.working_dir
    config_doc: dict[str, Any] = {
        "architecture": spec.architecture,
        "os": spec.os,
        "config": inner,
        "created": "2024-01-01T00:00:00Z",
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    if spec.variant:
        config_doc["variant"] = spec.variant
    config = Blob(DOCKER_CONFIG if docker else OCI_CONFIG, canonical_json(config_doc))
    manifest_doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    if spec.annotations and not docker:
        manifest_doc["annotations"] = dict(spec.annotations)
    manifest = Blob(
        DOCKER_MANIFEST if docker else OCI_MANIFEST,
        canonical_json(manifest_doc),
        platform=spec.platform,
    )
    return BuiltImage(spec=spec, manifest=manifest, config=config, layers=tuple(layers))


def attestation_for(image: BuiltImage) -> BuiltImage:
    """A BuildKit-style attestation manifest (in-toto layer) that refers to ``image``."""
    statement = Blob(
        IN_TOTO,
        canonical_json({"_type": "https://in-toto.io/Statement/v0.1", "subject": []}),
        annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"},
    )
    config = Blob(OCI_CONFIG, canonical_json({"architecture": "unknown", "os": "unknown"}))
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [statement.descriptor()],
    }
    manifest = Blob(
        OCI_MANIFEST,
        canonical_json(manifest_doc),
        annotations={
            "vnd.docker.reference.digest": image.digest,
            "vnd.docker.reference.type": "attestation-manifest",
        },
        platform={"os": "unknown", "architecture": "unknown"},
    )
    return BuiltImage(spec=ImageSpec(), manifest=manifest, config=config, layers=(statement,))


def build_index(
    images: Sequence[BuiltImage],
    *,
    attestation: bool = True,
    media: Literal["oci", "docker"] = "oci",
    annotations: Mapping[str, str] | None = None,
) -> BuiltIndex:
    """An index (or Docker manifest list) of ``images``, plus an attestation for the first."""
    members = list(images)
    if attestation and members:
        members.append(attestation_for(members[0]))
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST if media == "docker" else OCI_INDEX,
        "manifests": [m.manifest.descriptor() for m in members],
    }
    if annotations:
        doc["annotations"] = dict(annotations)
    index = Blob(DOCKER_LIST if media == "docker" else OCI_INDEX, canonical_json(doc))
    return BuiltIndex(index=index, images=tuple(members))


class _ChallengeAuth(httpx.Auth):
    """Answers a registry's Basic or Bearer challenge with a username and password."""

    def __init__(self, username: str | None, password: str | None, scope: str) -> None:
        self._basic = httpx.BasicAuth(username, password or "") if username else None
        self._scope = scope
        self._header: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._header:
            request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "")
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic" and self._basic is not None:
            self._header = next(self._basic.auth_flow(httpx.Request("GET", "http://x"))).headers[
                "Authorization"
            ]
        elif scheme.lower() == "bearer":
            fields = dict(part.split("=", 1) for part in params.split(",") if "=" in part)
            fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
            token_request = httpx.Request(
                "GET",
                fields["realm"],
                params={"service": fields.get("service", ""), "scope": self._scope},
            )
            if self._basic is not None:
                token_request = next(self._basic.auth_flow(token_request))
            token_response = yield token_request
            token_response.read()
            self._header = "Bearer " + token_response.json()["token"]
        else:
            return
        request.headers["Authorization"] = self._header
        yield request


def push(
    registry_url: str,
    repository: str,
    tag: str | None,
    built: Built,
    *,
    username: str | None = None,
    password: str | None = None,
    verify: ssl.SSLContext | bool = True,
) -> str:
    """Upload ``built`` (blobs, child manifests, then the top manifest); return its digest.

    ``tag=None`` pushes by digest only.
    """
    auth = _ChallengeAuth(username, password, f"repository:{repository}:pull,push")
    base = registry_url.rstrip("/") + f"/v2/{repository}"
    with httpx.Client(auth=auth, verify=verify, timeout=30, trust_env=False) as client:
        for image in built.images:
            for blob in image.blobs():
                _push_blob(client, base, blob)
            reference = image.digest if isinstance(built, BuiltIndex) or tag is None else tag
            _push_manifest(client, base, reference, image.manifest)
        if isinstance(built, BuiltIndex):
            _push_manifest(client, base, tag or built.digest, built.index)
    return built.digest


def _push_blob(client: httpx.Client, base: str, blob: Blob) -> None:
    if client.head(f"{base}/blobs/{blob.digest}").status_code == 200:
        return
    started = client.post(f"{base}/blobs/uploads/")
    if started.status_code != 202:
        raise RuntimeError(f"blob upload start: HTTP {started.status_code} {started.text}")
    location = started.url.join(started.headers["location"])
    location = location.copy_merge_params({"digest": blob.digest})
    done = client.put(
        location,
        content=blob.data,
        headers={"Content-Type": "application/octet-stream"},
    )
    if done.status_code != 201:
        raise RuntimeError(f"blob upload: HTTP {done.status_code} {done.text}")


def _push_manifest(client: httpx.Client, base: str, reference: str, manifest: Blob) -> None:
    response = client.put(
        f"{base}/manifests/{reference}",
        content=manifest.data,
        headers={"Content-Type": manifest.media_type},
    )
    if response.status_code != 201:
        raise RuntimeError(f"manifest put: HTTP {response.status_code} {response.text}")


def write_oci_layout(
    path: str | Path,
    built: Built,
    *,
    tag: str | None = "latest",
    omit_layers: bool = False,
) -> Path:
    """Write ``built`` as an OCI image layout at ``path``; return the path.

    ``omit_layers`` leaves the layer blobs out (slimgate never reads them), which keeps
    fixtures small; ``index.json`` names the top manifest with
    ``org.opencontainers.image.ref.name`` = ``tag``. Note that skopeo (containers/image)
    only looks at OCI-typed entries of ``index.json``: build with ``media="oci"`` for
    layouts that skopeo should read.
    """
    root = Path(path)
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))

    def write(blob: Blob) -> None:
        (blobs / blob.digest.split(":", 1)[1]).write_bytes(blob.data)

    for image in built.images:
        write(image.manifest)
        write(image.config)
        for layer in image.layers:
            if not omit_layers or layer.media_type == IN_TOTO:
                write(layer)
    top = built.manifest  # an index's is the index
    write(top)
    descriptor: dict[str, Any] = {
        "mediaType": top.media_type,
        "digest": top.digest,
        "size": top.size,
    }
    if tag is not None:
        descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]}
    (root / "index.json").write_text(json.dumps(index, indent=2))
    return root

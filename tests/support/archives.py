"""Write the tar forms of an image that slimgate reads: oci-archive and ``docker save``.

Built on :mod:`tests.support.images`. :func:`write_oci_archive` tars an OCI image layout
(what ``skopeo copy ... oci-archive:`` writes); :func:`write_docker_archive` writes what
``docker save`` writes, either the legacy form (``manifest.json``, ``<id>.json`` configs,
``<id>/layer.tar`` directories; moby's image/tarexport) or the Docker 25+ form, which is an
OCI layout whose ``index.json`` names images with ``io.containerd.image.name``, plus the
legacy ``manifest.json`` pointing into ``blobs/``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from tests.support.images import OCI_INDEX, BuiltImage, BuiltIndex, write_oci_layout


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def tar_layout(layout: Path, path: Path) -> Path:
    """Tar the OCI layout directory ``layout`` into ``path`` (an oci-archive)."""
    with tarfile.open(path, "w") as tar:
        for item in sorted(layout.rglob("*")):
            if item.is_file():
                tar.add(item, arcname=item.relative_to(layout).as_posix())
    return path


def write_oci_archive(
    path: Path,
    built: BuiltImage | BuiltIndex,
    *,
    tag: str | None = "latest",
    omit_layers: bool = True,
) -> Path:
    """A tar of the OCI layout of ``built`` (layer blobs left out unless asked for).

    The layout directory is kept next to it as ``<path>.layout``.
    """
    layout = path.with_name(path.name + ".layout")
    write_oci_layout(layout, built, tag=tag, omit_layers=omit_layers)
    return tar_layout(layout, path)


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def write_docker_archive(
    path: Path,
    images: Sequence[tuple[BuiltImage, Sequence[str]]],
    *,
    form: Literal["legacy", "oci"] = "legacy",
    include_layers: bool = True,
) -> Path:
    """``docker save`` output for ``images`` (each with its RepoTags)."""
    manifest: list[dict[str, Any]] = []
    with tarfile.open(path, "w") as tar:
        if form == "oci":
            _add(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
            _add_dir(tar, "blobs/")
            _add_dir(tar, "blobs/sha256/")
            entries = []
            for image, tags in images:
                blobs = [image.manifest, image.config] + (
                    list(image.layers) if include_layers else []
                )
                for blob in blobs:
                    _add(tar, f"blobs/sha256/{_hex(blob.digest)}", blob.data)
                for tag in tags:
                    name = tag if "/" in tag.split(":")[0] else f"docker.io/library/{tag}"
                    entries.append(
                        {
                            **image.manifest.descriptor(),
                            "annotations": {
                                "io.containerd.image.name": name,
                                "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[-1],
                            },
                        }
                    )
                manifest.append(
                    {
                        "Config": f"blobs/sha256/{_hex(image.config.digest)}",
                        "RepoTags": list(tags),
                        "Layers": [f"blobs/sha256/{_hex(la.digest)}" for la in image.layers],
                    }
                )
            index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
            _add(tar, "index.json", json.dumps(index).encode())
        else:
            for image, tags in images:
                config_name = f"{_hex(image.config.digest)}.json"
                _add(tar, config_name, image.config.data)
                layer_names = []
                parent = ""
                for layer in image.layers:
                    uncompressed = gzip.decompress(layer.data)
                    layer_id = hashlib.sha256((parent + layer.digest).encode()).hexdigest()
                    parent = layer_id
                    layer_names.append(f"{layer_id}/layer.tar")
                    if include_layers:
                        _add_dir(tar, f"{layer_id}/")
                        _add(tar, f"{layer_id}/VERSION", b"1.0")
                        _add(tar, f"{layer_id}/json", json.dumps({"id": layer_id}).encode())
                        _add(tar, f"{layer_id}/layer.tar", uncompressed)
                manifest.append(
                    {"Config": config_name, "RepoTags": list(tags), "Layers": layer_names}
                )
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return path

"""ConfigMap and Secret volumes laid out the way the kubelet projects them.

The kubelet writes each new version of the data into a fresh ``..<timestamp>`` directory,
points ``..data`` at it with an atomic rename of a temporary symlink, and exposes each key
as a symlink through ``..data``. slimgate's configuration and certificate reloads must see
exactly that swap, so every test that changes a mounted file goes through here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def project(directory: Path, files: Mapping[str, str | bytes], generation: int) -> None:
    """Write ``files`` as version ``generation`` of the volume at ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    timestamped = directory / f"..2026_11_27_{generation:04d}"
    timestamped.mkdir()
    for name, content in files.items():
        target = timestamped / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    link = directory / "..data_tmp"
    link.symlink_to(timestamped.name)
    os.replace(link, directory / "..data")  # the atomic swap
    for name in files:
        visible = directory / name
        if not visible.is_symlink():
            visible.symlink_to(f"..data/{name}")

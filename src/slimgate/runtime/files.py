"""Has a mounted file changed? The signature a reload compares.

A ConfigMap or Secret mounted as a volume is updated by an atomic symlink swap (``..data``
points to a new timestamped directory), so a file's path never changes while the file
behind it does: the signature is the resolved path with the device, inode, size and mtime
of the file it points to.
"""

from __future__ import annotations

import os
from pathlib import Path

Signature = tuple[str, int, int, int, int]


def file_signature(path: Path) -> Signature | None:
    """Resolved path, device, inode, size and mtime of ``path``; None when it is missing."""
    try:
        resolved = os.path.realpath(path)
        st = os.stat(resolved)
    except OSError:
        return None
    return (resolved, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

"""Files that must survive a power cut: atomic, synced replacement, and hashing a file without reading it whole.

A power cut leaves either the old content or the new, never half of either.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must survive the power cut too
    finally:
        os.close(dir_fd)


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of a file read in 1 MiB pieces (blobs can be gigabytes); call it off the event loop."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()

"""Files that must survive a power cut: atomic, synced replacement, and hashing a file without reading it whole.

A power cut leaves either the old content or the new, never half of either.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """Write every byte: os.write may write fewer than asked (a signal, a full pipe or disk quota), and the rest
    would be lost silently. A write that makes no progress is an error."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "the file system accepted no more bytes")
        view = view[written:]


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # a temporary file left by a crash keeps its old mode through O_CREAT
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)  # never renamed into place half written
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)  # the rename itself must survive the power cut too


def fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place_durably(tmp: Path, final: Path, synced: bool = False) -> None:
    """Rename a finished file to its final name so that after a power cut it is there whole or not at all:
    its bytes on disk first (unless the writer already fsynced them, `synced`), then the rename, then the
    folder's entry (and the new folder's own entry when this made it). Content-addressed stores mark a blob
    present, and serve it as immutable, only after this returns."""
    if not synced:
        fsync_file(tmp)
    made = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    fsync_dir(final.parent)
    if made:
        fsync_dir(final.parent.parent)


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of a file read in 1 MiB pieces (blobs can be gigabytes); call it off the event loop."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()

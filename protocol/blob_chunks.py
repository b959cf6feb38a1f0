"""Per-chunk SHA-256 of a blob, a hint that lets a receiver find and re-fetch just the chunk a line corrupted.

The hint is unsigned: the blob's own SHA-256 (named in a signed record) stays the only authority. A lying hint can
only make the receiver fetch more, never accept a wrong byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_SIZE = 256 * 1024
DIGEST = 32


def chunk_count(size: int) -> int:
    return (size + CHUNK_SIZE - 1) // CHUNK_SIZE


def hints_length(size: int) -> int:
    return chunk_count(size) * DIGEST


def chunk_hashes(path: Path) -> bytes:
    """The concatenated SHA-256 digests of the file's CHUNK_SIZE chunks (blocking: run it off the event loop)."""
    out = bytearray()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            out += hashlib.sha256(chunk).digest()
    return bytes(out)

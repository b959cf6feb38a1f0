"""Content-defined chunks of a file (a FastCDC-style gear hash), so that two versions of an artifact share chunks.

Cut points depend on the bytes around them, not on offsets: a file that changed in one place keeps every other
chunk, even when what follows moved. The hub keeps the chunk index of each release artifact; a box cuts what it
already has the same way and fetches only the chunks it lacks (edge/updates/delta_fetch.py). An index is a hint,
like protocol/blob_chunks.py: the artifact's SHA-256, signed in the release, stays the one authority.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from .errors import ProtocolError

MIN_CHUNK = 2 * 1024
MAX_CHUNK = 64 * 1024
# 13 bits: a cut on average every 8 KiB past the minimum. The top bits of the 64-bit gear hash are used because
# they depend on the last 64 bytes (the low bits on the last few only), the window FastCDC relies on.
_MASK = ((1 << 13) - 1) << 51
_BITS64 = (1 << 64) - 1
# The gear table: 256 fixed pseudo-random numbers that hub and box derive alike.
_GEAR = tuple(int.from_bytes(hashlib.sha256(b"villagenet-gear-%d" % i).digest()[:8], "big") for i in range(256))
_ENTRY = struct.Struct(">I32s")  # an index entry: the chunk's length, its SHA-256
INDEX_ENTRY_BYTES = _ENTRY.size


@dataclass(frozen=True)
class Chunk:
    offset: int
    length: int
    sha256: bytes


def cut_points(data: bytes | memoryview) -> list[int]:
    """The end offset of each chunk of `data` (blocking: about a second per 2 MB, run it off the event loop)."""
    cuts: list[int] = []
    start, size, gear, mask = 0, len(data), _GEAR, _MASK
    while start < size:
        end = min(start + MAX_CHUNK, size)
        h = 0
        for i in range(start + MIN_CHUNK, end):
            h = ((h << 1) + gear[data[i]]) & _BITS64
            if not h & mask:
                end = i + 1
                break
        cuts.append(end)
        start = end
    return cuts


def chunks_of(data: bytes | memoryview) -> list[Chunk]:
    out, start = [], 0
    for end in cut_points(data):
        out.append(Chunk(start, end - start, hashlib.sha256(data[start:end]).digest()))
        start = end
    return out


def encode_index(chunks: list[Chunk]) -> bytes:
    return b"".join(_ENTRY.pack(c.length, c.sha256) for c in chunks)


def max_index_bytes(size: int) -> int:
    """The longest honest index of a file of `size` bytes (every chunk but the last at least MIN_CHUNK)."""
    return (size // MIN_CHUNK + 1) * INDEX_ENTRY_BYTES


def decode_index(raw: bytes, size: int) -> list[Chunk]:
    """The chunks an index names for a file of `size` bytes; ProtocolError when it cannot describe that file."""
    if len(raw) % INDEX_ENTRY_BYTES or len(raw) > max_index_bytes(size):
        raise ProtocolError(f"a chunk index of {len(raw)} bytes cannot describe a file of {size} bytes")
    out, offset = [], 0
    for length, digest in _ENTRY.iter_unpack(raw):
        if not 0 < length <= MAX_CHUNK:
            raise ProtocolError(f"a chunk index names a chunk of {length} bytes")
        out.append(Chunk(offset, length, digest))
        offset += length
    if offset != size:
        raise ProtocolError(f"a chunk index covers {offset} bytes of a file of {size}")
    return out

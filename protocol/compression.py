"""Compressed framing of batches on the line and on sticks: a 4-byte tag, then zlib; plain msgpack otherwise.

Signatures cover the decompressed batch, so compression is a matter of transport only; inflating is capped, so a
small frame cannot grow into gigabytes (a decompression bomb is refused like any other oversized input).
"""

from __future__ import annotations

import zlib

from .errors import DecodeError, TooLarge

MAGIC = b"VNZ1"
# What a receiver advertises (query `enc=`) to get compressed batches; absent means plain msgpack (v1 wire).
ENCODING = "z1"
_LEVEL = 9


def compress(data: bytes) -> bytes:
    return MAGIC + zlib.compress(data, _LEVEL)


def is_compressed(data: bytes) -> bool:
    return data[:4] == MAGIC


def decompress(data: bytes, max_bytes: int) -> bytes:
    """The plain bytes of a frame (a plain frame is returned as it is), refusing more than `max_bytes`."""
    if not is_compressed(data):
        if len(data) > max_bytes:
            raise TooLarge(f"{len(data)} bytes is more than the limit of {max_bytes}")
        return data
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data[len(MAGIC):], max_bytes + 1)
    except zlib.error as exc:
        raise DecodeError(f"compressed batch is damaged: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise TooLarge(f"compressed batch inflates to more than {max_bytes} bytes")
    if not inflater.eof:
        raise DecodeError("compressed batch is truncated")
    if inflater.unused_data:
        raise DecodeError("trailing bytes after the compressed batch")
    return out

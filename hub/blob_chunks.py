"""The hub's per-chunk hashes of stored blobs (protocol/blob_chunks.py), computed once and kept beside the blobs.

Edges fetch them before a large download so a byte flipped on the line costs one chunk, not the whole blob.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from protocol.blob_chunks import chunk_hashes, hints_length


async def hints_for(blob_path: Path, cache_dir: Path, sha256: str) -> bytes:
    cached = cache_dir / sha256[:2] / f"{sha256}.chunks"
    size = (await asyncio.to_thread(blob_path.stat)).st_size
    try:
        data = await asyncio.to_thread(cached.read_bytes)
        if len(data) == hints_length(size):
            return data
    except FileNotFoundError:
        pass
    data = await asyncio.to_thread(chunk_hashes, blob_path)
    await asyncio.to_thread(_store, cached, data)
    return data


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

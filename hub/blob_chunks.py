"""The hub's per-chunk hashes of stored blobs (protocol/blob_chunks.py), computed once and kept beside the blobs.

Edges fetch them before a large download so a byte flipped on the line costs one chunk, not the whole blob.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from protocol.blob_chunks import chunk_hashes, hints_length


class ChunkHints:
    """The hints of each blob, hashed at most once at a time however many ask (the route needs no login, so a
    crowd of requests for a large blob not hashed yet must not start one whole-blob hash each)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._hashing: dict[str, asyncio.Future[bytes]] = {}
        self.hashed = 0  # whole-blob hashes done by this process (the tests count them)

    async def hints_for(self, blob_path: Path, sha256: str) -> bytes:
        # Joined before anything is awaited: a request that came while another read the kept hints or hashed the
        # blob shares that one answer (looking at the kept file first left a window for a second hash).
        running = self._hashing.get(sha256)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._hashing[sha256] = future
        try:
            data = await self._kept_or_hashed(blob_path, sha256)
            future.set_result(data)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: the waiters (if any) get it through their own await
            raise
        finally:
            del self._hashing[sha256]
        return data

    async def _kept_or_hashed(self, blob_path: Path, sha256: str) -> bytes:
        cached = self.cache_dir / sha256[:2] / f"{sha256}.chunks"
        size = (await asyncio.to_thread(blob_path.stat)).st_size
        try:
            data = await asyncio.to_thread(cached.read_bytes)
            if len(data) == hints_length(size):
                return data
        except FileNotFoundError:
            pass
        data = await asyncio.to_thread(chunk_hashes, blob_path)
        self.hashed += 1
        await asyncio.to_thread(_store, cached, data)
        return data


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)

"""`GET /content/{sha256}/index`: the content-defined chunks of a stored blob, so a box fetches only what it lacks.

A box about to download a release artifact cuts the software it already runs into chunks the same way
(protocol/content_chunks.py) and asks the hub only for the others (edge/updates/delta_fetch.py). The index is cut
once per blob, whoever asks and however many at once, and kept beside the blobs. Like the per-chunk hashes of
/chunks it is an unsigned hint: the box checks every chunk and the whole artifact against the signed SHA-256.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from aiohttp import web

from protocol.content_chunks import chunks_of, encode_index, max_index_bytes
from protocol.http_errors import ApiError
from protocol.records import is_sha256_hex

from .blob_serving import IMMUTABLE
from .services import HUB

# Cutting is pure Python (about 10 MB/s, read whole): bigger blobs (videos) are not release artifacts worth a delta.
MAX_INDEXED_BYTES = 64 * 1024 * 1024


class ContentIndexes:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._cutting: dict[str, asyncio.Task[bytes]] = {}
        self.cut = 0  # blobs cut by this process (the tests count them)

    async def index_of(self, blob_path: Path, sha256: str, size: int) -> bytes:
        task = self._cutting.get(sha256)
        if task is None:  # no await between the look-up and the insert: one cut per blob at a time
            task = asyncio.ensure_future(self._kept_or_cut(blob_path, sha256, size))
            self._cutting[sha256] = task
            task.add_done_callback(lambda _: self._cutting.pop(sha256, None))
        return await asyncio.shield(task)

    async def _kept_or_cut(self, blob_path: Path, sha256: str, size: int) -> bytes:
        kept = self.cache_dir / sha256[:2] / f"{sha256}.index"
        try:
            data = await asyncio.to_thread(kept.read_bytes)
            if len(data) <= max_index_bytes(size):
                return data
        except FileNotFoundError:
            pass
        data = await asyncio.to_thread(_cut_and_keep, blob_path, kept)
        self.cut += 1
        return data


def _cut_and_keep(blob_path: Path, kept: Path) -> bytes:
    data = encode_index(chunks_of(blob_path.read_bytes()))
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, kept)
    return data


CONTENT_INDEXES = web.AppKey("content_indexes", ContentIndexes)
routes = web.RouteTableDef()


@routes.get("/content/{sha256}/index")
async def content_index(request: web.Request) -> web.Response:
    """The blob's chunks as (length, SHA-256) pairs, 36 bytes each (protocol/content_chunks.py)."""
    sha = request.match_info["sha256"]
    if not is_sha256_hex(sha):
        raise ApiError(400, "bad_sha256", "a content name must be 64 lowercase hex digits")
    path = request.app[HUB].blobs.path_for(sha)
    try:
        size = (await asyncio.to_thread(path.stat)).st_size
    except FileNotFoundError:
        raise ApiError(404, "not_found", f"no blob {sha} is stored at the hub") from None
    if size > MAX_INDEXED_BYTES:
        raise ApiError(404, "not_indexed", f"blob {sha} is too large to be fetched in chunks; fetch it whole")
    data = await request.app[CONTENT_INDEXES].index_of(path, sha, size)
    return web.Response(body=data, content_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE})


def setup(app: web.Application) -> None:
    app[CONTENT_INDEXES] = ContentIndexes(app[HUB].config.data_dir / "content_index")
    app.add_routes(routes)

"""The content cache at the edge: the ContentStore's blobs kept within a disk quota, least recently used out first.

Pinned blobs (every attachment of a current emergency notice, the images and documents of current notices) are
never evicted; videos are cached while there is room and fetched again on demand when a resident asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from edge.content.store import ContentStore
from edge.notices.board import attachment_named, list_notices
from protocol.database import Database
from protocol.http_errors import ApiError
from protocol.records import is_sha256_hex

log = logging.getLogger(__name__)
IMMUTABLE_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}


def _scan(root: Path) -> dict[str, int]:
    """Blobs on disk (root/ab/abcd…), by hash: the quota counts what is really there."""
    found: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError):
        for sub in os.scandir(root):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for f in os.scandir(sub.path):
                if f.is_file() and is_sha256_hex(f.name):
                    found[f.name] = f.stat().st_size
    return found


class ContentCache:
    def __init__(self, store: ContentStore, db: Database, quota_bytes: int,
                 wake_fetcher: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.db = db
        self.quota_bytes = quota_bytes
        self._wake_fetcher = wake_fetcher
        self._sizes: dict[str, int] = {}
        self._last_used: dict[str, float] = {}
        self._inflight: dict[str, int] = {}  # admitted downloads, counted at full size until stored
        self._dirty: set[str] = set()
        self._lock = asyncio.Lock()
        self.evictions = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def open(self) -> None:
        """Learn what is on disk, take over the store's hooks, and get back within the quota."""
        on_disk = await asyncio.to_thread(_scan, self.store.root)
        known = {r["sha256"]: r["last_used"] for r in await self.db.fetchall("SELECT sha256, last_used FROM content_cache")}
        self._sizes = on_disk
        # A blob on disk without a record (fetched before the cache existed) counts as the least recently used.
        self._last_used = {sha: float(known.get(sha, 0.0)) for sha in on_disk}
        async with self.db.write() as conn:
            await conn.executemany("DELETE FROM content_cache WHERE sha256 = ?", [(s,) for s in known if s not in on_disk])
        self._dirty = set(on_disk) - set(known)
        self.store.admit = self.admit
        self.store.stored = self.stored
        async with self._lock:
            await self._make_room(0, await self.pinned())
        await self.flush()

    async def close(self) -> None:
        self.store.admit = None
        self.store.stored = None
        await self.flush()

    async def flush(self) -> None:
        """Write last-use times to SQLite: batched, because a synced commit per video Range request is too dear."""
        dirty, self._dirty = self._dirty, set()
        rows = [(s, self._sizes[s], self._last_used.get(s, 0.0)) for s in dirty if s in self._sizes]
        if rows:
            async with self.db.write() as conn:
                await conn.executemany(
                    "INSERT OR REPLACE INTO content_cache (sha256, size, last_used) VALUES (?, ?, ?)", rows
                )

    async def run_flusher(self, every_s: float = 30.0) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.flush()

    # -- accounting --------------------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        return sum(self._sizes.values()) + sum(self._inflight.values())

    def cached(self) -> dict[str, int]:
        return dict(self._sizes)

    async def pinned(self) -> set[str]:
        """Blobs that must stay: all of a current emergency, the images and documents of every current notice."""
        pins: set[str] = set()
        for n in await list_notices(self.db):
            for a in n["attachments"]:
                if n["priority"] == "emergency" or not str(a.get("mime", "")).startswith("video/"):
                    pins.add(a["sha256"])
        return pins

    async def admit(self, sha256: str, size: int) -> bool:
        """Called by the store before a download: make room by evicting, or skip an unpinned blob that cannot fit."""
        async with self._lock:
            pins = await self.pinned()
            fits = await self._make_room(size, pins)
            if not fits and sha256 not in pins:
                log.info("blob %s (%d bytes) does not fit the cache now; fetched when someone asks", sha256, size)
                await self._forget(sha256)
                return False
            if not fits:
                # An emergency's media matters more than the quota; say so loudly so staff can raise it.
                log.warning("pinned blob %s takes the cache over its quota of %d bytes", sha256, self.quota_bytes)
            self._inflight[sha256] = size
            return True

    async def stored(self, sha256: str, size: int) -> None:
        self._inflight.pop(sha256, None)
        self._sizes[sha256] = size
        self.touch(sha256)
        await self.flush()

    def touch(self, sha256: str) -> None:
        if sha256 in self._sizes:
            self._last_used[sha256] = time.time()
            self._dirty.add(sha256)

    async def _make_room(self, need: int, pins: set[str]) -> bool:
        victims = sorted((self._last_used.get(s, 0.0), s) for s in self._sizes if s not in pins)
        while self.used_bytes() + need > self.quota_bytes and victims:
            _, sha = victims.pop(0)
            await self._evict(sha)
        return self.used_bytes() + need <= self.quota_bytes

    async def _evict(self, sha256: str) -> None:
        size = self._sizes.pop(sha256, 0)
        self._last_used.pop(sha256, None)
        self._dirty.discard(sha256)
        await asyncio.to_thread(self.store.path_for(sha256).unlink, True)
        await self._forget(sha256)
        self.evictions += 1
        log.info("evicted blob %s (%d bytes) from the content cache", sha256, size)

    async def _forget(self, sha256: str) -> None:
        """Drop the blob from the store's wanted list, so the blob loop does not fetch it straight back."""
        self._inflight.pop(sha256, None)
        await asyncio.to_thread((self.store.root / "partial" / sha256).unlink, True)
        async with self.db.write() as conn:
            await conn.execute("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
            await conn.execute("DELETE FROM content_cache WHERE sha256 = ?", (sha256,))

    # -- serving -----------------------------------------------------------------------------------------------
    async def want(self, sha256: str) -> bool:
        """Ask for a blob a notice names but the cache let go of; True if the blob loop will fetch it."""
        ref = await attachment_named(self.db, sha256)
        if ref is None:
            return False
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO blobs (sha256, size, mime) VALUES (?, ?, ?)",
                (sha256, int(ref["size"]), str(ref["mime"])),
            )
        self._wake_fetcher()
        return True

    async def serve(self, request: web.Request, sha256: str) -> web.StreamResponse:
        """The blob with Range, ETag and If-None-Match (FileResponse), and a note of its use for LRU."""
        if self.store.has(sha256):
            self.touch(sha256)
            return web.FileResponse(self.store.path_for(sha256), headers=IMMUTABLE_HEADERS)
        if await self.want(sha256):
            raise ApiError(404, "not_here_yet", "这段内容正在从城市平台取回，请过一会儿再看。It is on its way; try again shortly.")
        raise ApiError(404, "not_here_yet", "this content has not reached the village yet")


CONTENT_CACHE = web.AppKey("content_cache", ContentCache)

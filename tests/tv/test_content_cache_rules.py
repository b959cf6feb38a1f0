"""The content cache's rules on a real store and SQLite file, without a hub: pins are never evicted, even when
the quota is too small for them; unpinned blobs go least recently used first; what cannot fit is not fetched."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from edge.content.cache import ContentCache
from edge.content.store import ContentStore
from edge.schema import SCHEMA
from protocol.database import Database

KB = 1024


@pytest.fixture
async def store(tmp_path: Path):
    db = Database(tmp_path / "edge.db")
    await db.open(SCHEMA)
    yield ContentStore(tmp_path / "content", db)
    await db.close()


async def _blob(store: ContentStore, size: int, last_used: float | None = None) -> str:
    data = os.urandom(size)
    sha = hashlib.sha256(data).hexdigest()
    path = store.path_for(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    async with store.db.write() as conn:
        await conn.execute("INSERT INTO blobs (sha256, size, mime, present) VALUES (?, ?, 'x', 1)", (sha, size))
        if last_used is not None:
            await conn.execute("INSERT INTO content_cache (sha256, size, last_used) VALUES (?, ?, ?)", (sha, size, last_used))
    return sha


async def _notice(store: ContentStore, nid: str, priority: str, refs: list[tuple[str, int, str]],
                  expires_at: str | None = None) -> None:
    attachments = json.dumps([{"sha256": s, "size": n, "mime": m} for s, n, m in refs])
    async with store.db.write() as conn:
        await conn.execute(
            "INSERT INTO notices (id, title, body, area, priority, scope, published_at, expires_at, attachments)"
            " VALUES (?, '通知', '内容', 'safety', ?, 'city', '2026-01-01T00:00:00Z', ?, ?)",
            (nid, priority, expires_at, attachments))


async def test_opening_over_quota_evicts_unpinned_blobs_oldest_first_and_keeps_the_pins(store):
    pinned = await _blob(store, 200 * KB)
    old_video = await _blob(store, 100 * KB, last_used=1.0)
    new_video = await _blob(store, 100 * KB, last_used=2.0)
    expired_picture = await _blob(store, 10 * KB, last_used=3.0)
    await _notice(store, "n1", "emergency", [(pinned, 200 * KB, "image/png")])
    await _notice(store, "n2", "normal", [(old_video, 100 * KB, "video/mp4"), (new_video, 100 * KB, "video/mp4")])
    await _notice(store, "n3", "normal", [(expired_picture, 10 * KB, "image/png")], expires_at="2020-01-01T00:00:00Z")
    cache = ContentCache(store, store.db, quota_bytes=320 * KB)
    await cache.open()
    assert store.has(pinned) and store.has(new_video)
    assert not store.has(old_video), "the least recently used video goes first"
    assert store.has(expired_picture) and cache.used_bytes() <= 320 * KB  # it fit once the old video went
    assert await store.db.fetchvalue("SELECT COUNT(*) FROM blobs WHERE sha256 = ?", (old_video,)) == 0
    await cache.close()


async def test_a_pin_is_kept_even_when_the_quota_is_too_small_and_an_unpinned_blob_that_cannot_fit_is_skipped(store):
    pinned = await _blob(store, 300 * KB)
    await _notice(store, "n1", "emergency", [(pinned, 300 * KB, "image/png"), ("ab" * 32, 50 * KB, "image/png")])
    await _notice(store, "n2", "normal", [("cd" * 32, 80 * KB, "video/mp4")])
    cache = ContentCache(store, store.db, quota_bytes=100 * KB)
    await cache.open()
    assert store.has(pinned), "a pinned blob is never evicted"
    assert await cache.admit("ab" * 32, 50 * KB) is True  # the emergency's second picture comes anyway
    async with store.db.write() as conn:
        await conn.execute("INSERT INTO blobs (sha256, size, mime) VALUES (?, ?, 'video/mp4')", ("cd" * 32, 80 * KB))
    assert await cache.admit("cd" * 32, 80 * KB) is False
    assert await store.db.fetchvalue("SELECT COUNT(*) FROM blobs WHERE sha256 = ?", ("cd" * 32,)) == 0, \
        "a blob that cannot fit leaves the wanted list, so the blob loop does not fetch it again and again"
    assert await cache.want("cd" * 32) is True  # a resident asks: it is wanted again
    assert await store.db.fetchvalue("SELECT COUNT(*) FROM blobs WHERE sha256 = ?", ("cd" * 32,)) == 1
    await cache.close()


async def test_use_times_survive_a_restart(store):
    a = await _blob(store, 10 * KB)
    cache = ContentCache(store, store.db, quota_bytes=1024 * KB)
    await cache.open()
    cache.touch(a)
    await cache.close()
    assert await store.db.fetchvalue("SELECT last_used FROM content_cache WHERE sha256 = ?", (a,)) > 0

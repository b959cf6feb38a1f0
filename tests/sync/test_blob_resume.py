"""Blob downloads resume where a cut line stopped them, and a damaged chunk is fetched again on its own."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import aiohttp

from deploy.line_simulator import Faults, LineSimulator
from edge.content.store import SPAN, BlobRefused, ContentStore
from edge.schema import SCHEMA
from protocol.blob_chunks import CHUNK_SIZE
from protocol.database import Database
from tests.hub.kit import HubKit

MB = 1024 * 1024


async def _upload(kit: HubKit, blob: bytes) -> str:
    resp = await kit.client.post("/api/v1/blobs", data=blob, headers=kit.admin)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["sha256"])


async def _fetch_until_done(store: ContentStore, url: str, sha: str, size: int, attempts: int = 200) -> int:
    """What the sync loop does: call fetch again after every failure (bounded)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            try:
                await store.fetch(session, url, sha, size)
                return 0
            except (aiohttp.ClientError, BlobRefused, OSError):
                continue
    raise AssertionError(f"blob {sha} not complete after {attempts} attempts")


async def _store(tmp_path: Path, sha: str, size: int) -> ContentStore:
    db = Database(tmp_path / "edge.db")
    await db.open(SCHEMA)
    async with db.write() as conn:
        await conn.execute("INSERT INTO blobs (sha256, size, mime) VALUES (?, ?, 'video/mp4')", (sha, size))
    return ContentStore(tmp_path / "content", db)


async def test_a_50_mb_download_cut_every_2_mb_completes_with_under_10_percent_extra_bytes(
        kit: HubKit, tmp_path: Path) -> None:
    blob = os.urandom(50 * MB)
    sha = await _upload(kit, blob)
    host, port = kit.client.make_url("").host, kit.client.make_url("").port
    assert host and port
    line = await LineSimulator((host, port), faults=Faults(cut_every=2 * MB, directions=("down",))).start()
    store = await _store(tmp_path, sha, len(blob))
    try:
        await _fetch_until_done(store, line.url, sha, len(blob))
    finally:
        await line.stop()
    assert line.stats.cuts >= 24
    assert store.path_for(sha).read_bytes() == blob
    extra = line.stats.down_bytes / len(blob) - 1
    assert extra <= 0.10, f"{extra:.1%} extra bytes on the line"
    await store.db.close()


async def test_bytes_flipped_on_the_line_cost_a_chunk_each_and_never_reach_the_stored_blob(
        kit: HubKit, tmp_path: Path, caplog: Any) -> None:
    blob = os.urandom(5 * MB)
    sha = await _upload(kit, blob)
    host, port = kit.client.make_url("").host, kit.client.make_url("").port
    assert host and port
    line = await LineSimulator((host, port), faults=Faults(flip_mean=1.5 * MB, directions=("down",), seed=7)).start()
    store = await _store(tmp_path, sha, len(blob))
    try:
        await _fetch_until_done(store, line.url, sha, len(blob))
    finally:
        await line.stop()
    assert line.stats.flips >= 2
    assert hashlib.sha256(store.path_for(sha).read_bytes()).hexdigest() == sha
    assert "damaged on the line; fetching it again" in caplog.text
    # Each flip costs at most the span in flight, not the whole blob again.
    assert line.stats.down_bytes <= len(blob) + line.stats.flips * (SPAN + CHUNK_SIZE)
    await store.db.close()

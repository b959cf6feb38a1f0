"""Security review, Low: edge blobs were not fsynced before they were marked present (and then served as
immutable), hub blob and recording renames did not fsync their folder, and the atomic writer ignored a short write.

Each case is checked on the real code doing real I/O, with strace reading the order of its calls off the process:
the file's bytes are fsynced, then renamed into place, then the folder is fsynced, and only then does the database
write that makes the file count.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from edge.content.store import ContentStore
from edge.schema import SCHEMA
from protocol import atomic_file
from protocol.database import Database
from tests.hub.kit import start_hub

from .syscall_trace import first, needs_strace, syscalls_of

BLOB = os.urandom(300_000)
SHA = hashlib.sha256(BLOB).hexdigest()


def assert_placed_durably(lines: list[str], source: str, folder: str, database_wal: str) -> None:
    """`source` renamed into `folder`, that folder fsynced after the rename, and the database's first write after
    the rename comes after that fsync."""
    renamed = first(lines, "rename", source)
    assert renamed >= 0, f"no rename of {source}:\n" + "\n".join(lines[-40:])
    folder_synced = first(lines, "fsync(", f"{folder}>", after=renamed)
    recorded = first(lines, "pwrite64(", database_wal, after=renamed)
    assert folder_synced >= 0, f"the folder {folder} was not fsynced after the rename"
    assert recorded >= 0, "the file was never recorded in the database"
    assert folder_synced < recorded, "the database counted the file before its rename was on disk"


@needs_strace
async def test_a_blob_fetched_by_the_edge_is_fsynced_and_its_rename_made_durable_before_it_is_marked_present(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    resp = await kit.client.post("/api/v1/blobs", data=BLOB, headers=kit.admin)
    assert resp.status == 201
    db = Database(tmp_path / "edge" / "edge.db")
    await db.open(SCHEMA)
    async with db.write() as conn:
        await conn.execute("INSERT INTO blobs (sha256, size, mime) VALUES (?, ?, 'image/jpeg')", (SHA, len(BLOB)))
    store = ContentStore(tmp_path / "edge" / "content", db)
    try:
        with syscalls_of() as lines:
            async with aiohttp.ClientSession() as session:
                await store.fetch(session, str(kit.client.make_url("")).rstrip("/"), SHA, len(BLOB))
        part_synced = first(lines, "fsync(", f"/partial/{SHA}>")
        renamed = first(lines, "rename", f"/partial/{SHA}")
        assert 0 <= part_synced < renamed, "the blob's bytes were not fsynced before it was renamed into place"
        assert_placed_durably(lines, f"/partial/{SHA}", f"/content/{SHA[:2]}", "edge.db-wal")
        assert await db.fetchvalue("SELECT present FROM blobs WHERE sha256 = ?", (SHA,)) == 1
    finally:
        await db.close()


@needs_strace
async def test_a_blob_uploaded_to_the_hub_has_its_rename_made_durable_before_it_is_recorded(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    with syscalls_of() as lines:
        resp = await kit.client.post("/api/v1/blobs", data=BLOB, headers=kit.admin)
    assert resp.status == 201
    assert_placed_durably(lines, ".part", f"/blobs/{SHA[:2]}", "hub.db-wal")


@needs_strace
async def test_a_finished_meeting_recording_has_its_rename_made_durable_before_it_is_recorded(
        aiohttp_client: Any, tmp_path: Path) -> None:
    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    await kit.add_village("v1", town="t1")
    edge = await kit.enroll("v1")
    path = f"/api/v1/recordings/v1/mtg-1?offset=0&size={len(BLOB)}&sha256={SHA}"
    with syscalls_of() as lines:
        resp = await kit.client.put(path, data=BLOB, headers=edge.signed("PUT", path, BLOB))
        assert resp.status == 200 and (await resp.json())["complete"] is True
    assert_placed_durably(lines, "mtg-1", f"/blobs/{SHA[:2]}", "hub.db-wal")


# A short write cannot be forced on a real disk (ext4 writes a regular file whole unless the disk fills or a
# signal lands mid-write), so here, and only here, os.write is replaced by one that writes at most 1,000 bytes.
def test_a_short_write_is_completed_by_the_atomic_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = []

    def short_write(fd: int, data: Any) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[:1000]))

    monkeypatch.setattr(os, "write", short_write)
    target = tmp_path / "state.json"
    atomic_file.write_atomically(target, BLOB)
    assert target.read_bytes() == BLOB
    assert len(calls) == -(-len(BLOB) // 1000)


def test_a_write_that_makes_no_progress_is_refused_and_the_old_file_stays(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old and whole")
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:10])) if len(data) > 100 else 0)
    with pytest.raises(OSError):
        atomic_file.write_atomically(target, BLOB)
    assert target.read_bytes() == b"old and whole"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no half-written temporary file is left"

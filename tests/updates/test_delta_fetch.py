"""A release that changes little sends little: the box fetches only the chunks its running version lacks.

A real hub app (in-process) serves the new artifact and its chunk index through the simulated line
(deploy/line_simulator.py); the box's side is edge/updates/delta_fetch.py with a real content store.
"""

from __future__ import annotations

import asyncio
import logging
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deploy.line_simulator import Faults, LineSimulator
from edge.content.store import ContentStore
from edge.schema import SCHEMA
from edge.updates.delta_fetch import fetch_artifact, fetch_reusing, running_artifact
from edge.updates.slots import install_wheel
from hub.content_index import CONTENT_INDEXES, ContentIndexes
from protocol.content_chunks import INDEX_ENTRY_BYTES
from protocol.database import Database
from protocol.release_artifact import build_artifact, source_root
from tests.hub.kit import HubKit, start_hub

from .kit import newer

FIX = "edge/updates/version.py"  # the patch-level change: one line added to one module


def _patch_release() -> bytes:
    code = (source_root() / FIX).read_bytes() + b"\n# 0.1.x: a one-line fix\n"
    return build_artifact(source_root(), newer(1), {FIX: code})


@pytest.fixture
async def kit(aiohttp_client: Any, tmp_path: Path) -> HubKit:
    return await start_hub(aiohttp_client, tmp_path / "hub")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ContentStore]:
    db = Database(tmp_path / "edge.db")
    await db.open(SCHEMA)
    yield ContentStore(tmp_path / "content", db)
    await db.close()


@pytest.fixture
async def line(kit: HubKit) -> AsyncIterator[LineSimulator]:
    url = kit.client.make_url("")
    assert url.host and url.port
    sim = await LineSimulator((url.host, url.port)).start()
    yield sim
    await sim.stop()


async def _upload(kit: HubKit, artifact: bytes) -> str:
    resp = await kit.client.post("/api/v1/blobs", data=artifact, headers=kit.admin)
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["sha256"])


def test_the_release_artifact_is_the_same_bytes_whenever_it_is_built() -> None:
    assert build_artifact(source_root(), "9.9.9") == build_artifact(source_root(), "9.9.9")


async def test_a_patch_release_sends_under_a_fifth_of_its_artifact_and_installs_the_same_bytes(
        kit: HubKit, store: ContentStore, line: LineSimulator, tmp_path: Path) -> None:
    release = _patch_release()
    sha = await _upload(kit, release)
    async with aiohttp.ClientSession() as session:
        received = await fetch_artifact(store, session, line.url, sha, len(release))
    assembled = store.path_for(sha).read_bytes()
    assert assembled == release
    assert line.stats.down_bytes <= 0.2 * len(release), \
        f"{line.stats.down_bytes} bytes over the line for an artifact of {len(release)}"
    assert received < 0.1 * len(release)
    # Installed, it is the new version with the fix, every file as the release has it.
    assert install_wheel(store.path_for(sha), tmp_path / "slot") == newer(1)
    with zipfile.ZipFile(store.path_for(sha)) as wheel:
        for name in wheel.namelist():
            assert (tmp_path / "slot" / name).read_bytes() == wheel.read(name), name
    assert (tmp_path / "slot" / FIX).read_bytes().endswith(b"a one-line fix\n")
    assert kit.client.app[CONTENT_INDEXES].cut == 1


async def test_an_index_that_lies_ends_in_the_whole_download_and_still_the_right_bytes(
        kit: HubKit, store: ContentStore, line: LineSimulator, caplog: pytest.LogCaptureFixture) -> None:
    release = _patch_release()
    sha = await _upload(kit, release)
    # The kept index names every chunk of the running version, in the wrong order: it covers the right length,
    # and every chunk is one the box has, so only the whole artifact's hash can catch it.
    seed = running_artifact()
    index = await _index_of(kit, line, sha)
    lie = bytearray(index)
    lie[:INDEX_ENTRY_BYTES], lie[INDEX_ENTRY_BYTES:2 * INDEX_ENTRY_BYTES] = \
        index[INDEX_ENTRY_BYTES:2 * INDEX_ENTRY_BYTES], index[:INDEX_ENTRY_BYTES]
    (kit.data_dir / "content_index" / sha[:2] / f"{sha}.index").write_bytes(bytes(lie))
    caplog.set_level(logging.WARNING)
    async with aiohttp.ClientSession() as session:
        assert await fetch_reusing(store, session, line.url, sha, len(release), [seed]) is None
        assert not store.path_for(sha).exists(), "an assembly that fails its hash is never kept"
        await fetch_artifact(store, session, line.url, sha, len(release))
    assert store.path_for(sha).read_bytes() == release
    assert "fetching it whole" in caplog.text


async def test_a_line_cut_in_the_middle_resumes_from_the_chunks_already_fetched(
        kit: HubKit, store: ContentStore, tmp_path: Path) -> None:
    # A change spread over the artifact (a line added to every eighth file) so that there is something to
    # resume: then the line is cut every 100 KB.
    release = build_artifact(source_root(), newer(2), {
        name: path.read_bytes() + b"\n# changed\n" for name, path in list(_files().items())[::8]})
    sha = await _upload(kit, release)
    url = kit.client.make_url("")
    assert url.host and url.port
    cut_line = await LineSimulator((url.host, url.port), faults=Faults(cut_every=100_000, directions=("down",))).start()
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(30):
                try:
                    await fetch_artifact(store, session, cut_line.url, sha, len(release))
                    break
                except (aiohttp.ClientError, OSError):
                    continue
    finally:
        await cut_line.stop()
    assert store.path_for(sha).read_bytes() == release
    # About 700 KB of chunks are missing and no connection carries more than 100 KB: only resuming gets there.
    assert cut_line.stats.cuts >= 5
    assert cut_line.stats.down_bytes < 0.8 * len(release), "each try fetched everything again"


async def test_the_hub_cuts_a_blob_once_however_many_boxes_ask_at_once_and_keeps_the_index(
        kit: HubKit) -> None:
    sha = await _upload(kit, _patch_release())
    answers = await asyncio.gather(*(kit.client.get(f"/content/{sha}/index") for _ in range(20)))
    assert [a.status for a in answers] == [200] * 20
    assert len({await a.read() for a in answers}) == 1
    assert kit.client.app[CONTENT_INDEXES].cut == 1
    kept = ContentIndexes(kit.data_dir / "content_index")  # as after a restart of the hub
    blob = kit.hub.blobs.path_for(sha)
    assert await kept.index_of(blob, sha, blob.stat().st_size) == await answers[0].read()
    assert kept.cut == 0
    assert (await kit.client.get("/content/" + "0" * 64 + "/index")).status == 404


def _files() -> dict[str, Path]:
    from protocol.release_artifact import package_files

    return package_files(source_root())


async def _index_of(kit: HubKit, line: LineSimulator, sha: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(f"{line.url}/content/{sha}/index") as resp:
        assert resp.status == 200
        return await resp.read()

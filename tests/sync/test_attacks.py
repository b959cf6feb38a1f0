"""Every attack on the down feed is refused with a clear reason, in the log and in the edge's status.

The edge syncs with a real hub through a man in the middle (tests/sync/rig.py) who replays, changes, freezes,
mixes and swaps what the hub says; the hub side of these attacks is in tests/hub/test_hub_up_sync.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from edge.box.provisioned import apply_bundle
from hub.edge_revocation import revoke_edge
from protocol import codec, compression
from tests.device_kit import register_with
from tests.hub.kit import HubKit, start_hub

from .rig import Rig, build_rig, new_bundle


def is_down(request: web.Request) -> bool:
    return request.path.endswith("/down")


async def test_a_forged_entry_is_refused_and_nothing_of_its_batch_is_applied(rig: Rig, caplog: Any) -> None:
    async def forge(request: web.Request, status: int, body: bytes) -> bytes | None:
        if not is_down(request) or status != 200:
            return None
        m = codec.decode(compression.decompress(body, 8 << 20))
        for op in m["ops"]:
            op["body"]["title"] = "假通知：请转账"
        return compression.compress(codec.encode(m))

    rig.mitm.tamper = forge
    await rig.kit.notice(title="真通知")
    st = await rig.error_contains("signed head does not match")
    assert st["down"]["seq"] == 0
    assert await rig.notice_titles() == set()
    assert "signed head does not match" in caplog.text


async def test_a_replayed_batch_is_refused_as_older_than_the_hub_time_already_seen(rig: Rig, caplog: Any) -> None:
    recorded: list[bytes] = []

    async def record(request: web.Request, status: int, body: bytes) -> bytes | None:
        if is_down(request) and status == 200:
            recorded.append(body)
        return None

    rig.mitm.tamper = record
    await rig.kit.notice(title="一")
    await rig.until("the notice", lambda: _has(rig, "一"))
    await asyncio.sleep(2.2)  # later, fresher answers have been seen
    old = recorded[0]

    async def replay(request: web.Request, status: int, body: bytes) -> bytes | None:
        return old if is_down(request) else None

    rig.mitm.tamper = replay
    st = await rig.error_contains("replayed")
    assert st["sync"]["hub_time"] is not None
    assert "replayed or stale answer" in caplog.text


async def test_a_frozen_hub_is_flagged_stale_and_its_state_refused(aiohttp_client: Any, kit: HubKit,
                                                                  tmp_path: Path) -> None:
    rig = await build_rig(aiohttp_client, kit, tmp_path, hub_stale_after_s=1.5)
    frozen: list[bytes] = []

    async def freeze(request: web.Request, status: int, body: bytes) -> bytes | None:
        if not is_down(request) or status != 200:
            return None
        if not frozen:
            frozen.append(body)
        return frozen[0]

    rig.mitm.tamper = freeze
    try:
        await rig.until("an answer to freeze", lambda: _true(bool(frozen)))
        await kit.notice(title="新通知")  # never shown: the line serves the frozen answer
        st = await rig.error_contains("frozen state", timeout_s=20)
        assert st["sync"]["hub_stale"] is True
        assert "新通知" not in await rig.notice_titles()
    finally:
        await rig.mitm.stop()


async def _true(value: bool) -> bool:
    return value


async def _backup_hub(aiohttp_client: Any, kit: HubKit, tmp_path: Path) -> HubKit:
    """A second hub started from a copy of the first one's data: the same keys, the feed as it was then."""
    backup = tmp_path / "hub-backup"
    backup.mkdir()
    for name in ("root.key", "signing.key", "trust.vnt", "admin.token"):
        (backup / name).write_bytes((kit.data_dir / name).read_bytes())
        os.chmod(backup / name, 0o600)
    src = sqlite3.connect(kit.data_dir / "hub.db")
    dst = sqlite3.connect(backup / "hub.db")
    src.backup(dst)
    src.close()
    dst.close()
    return await start_hub(aiohttp_client, backup, longpoll_max_s=1.0)


async def test_a_rolled_back_feed_is_refused(aiohttp_client: Any, rig: Rig, tmp_path: Path, caplog: Any) -> None:
    await rig.kit.notice(title="一")
    await rig.until("one notice", lambda: _has(rig, "一"))
    restored = await _backup_hub(aiohttp_client, rig.kit, tmp_path)  # taken now, restored later
    await rig.kit.notice(title="二")
    await rig.until("two notices", lambda: _has(rig, "二"))
    rig.mitm.target = str(restored.client.make_url("")).rstrip("/")  # the hub comes back from its backup
    st = await rig.error_contains("rolled-back")
    assert st["down"]["seq"] == 2
    assert "rolled-back" in caplog.text


async def test_batches_of_two_hubs_mixed_are_refused(aiohttp_client: Any, rig: Rig, tmp_path: Path,
                                                     caplog: Any) -> None:
    await rig.kit.notice(title="一")
    await rig.until("one notice", lambda: _has(rig, "一"))
    other = await _backup_hub(aiohttp_client, rig.kit, tmp_path)  # same keys, then its own history
    await other.notice(title="另一个平台的二")
    await other.notice(title="另一个平台的三")
    await rig.kit.notice(title="二")
    await rig.until("two notices", lambda: _has(rig, "二"))
    rig.mitm.target = str(other.client.make_url("")).rstrip("/")
    st = await rig.error_contains("two different hubs")
    assert st["down"]["seq"] == 2
    assert not {"另一个平台的二", "另一个平台的三"} & await rig.notice_titles()
    assert "two different hubs" in caplog.text


async def test_a_batch_for_another_village_is_refused(rig: Rig, caplog: Any) -> None:
    await rig.kit.add_village("v2")
    other = await rig.kit.enroll("v2")
    await rig.kit.notice(title="给二村的", scope="village:v2")
    path = "/api/v1/sync/v2/down?after=0&enc=z1"
    resp = await rig.kit.client.get(path, headers=other.signed("GET", path))
    for_v2 = await resp.read()

    async def swap(request: web.Request, status: int, body: bytes) -> bytes | None:
        return for_v2 if is_down(request) else None

    rig.mitm.tamper = swap
    st = await rig.error_contains("down/v2")
    assert "expected 'down/v1'" in st["sync"]["last_error"]
    assert await rig.notice_titles() == set()
    assert "down/v2" in caplog.text


async def test_endless_data_is_refused_before_it_is_stored(rig: Rig, caplog: Any) -> None:
    blob = os.urandom(100_000)
    sha = hashlib.sha256(blob).hexdigest()
    resp = await rig.kit.client.post("/api/v1/blobs", data=blob, headers=rig.kit.admin)
    assert resp.status == 201

    async def endless(request: web.Request, status: int, body: bytes) -> bytes | web.StreamResponse | None:
        if request.path == f"/content/{sha}":
            return body + os.urandom(5_000_000)  # far more than the signed size
        return None

    rig.mitm.tamper = endless
    await rig.kit.notice(title="附件", attachments=[{"sha256": sha, "mime": "image/png"}])
    st = await rig.error_contains("more than its signed size")
    assert st["sync"]["backlog"]["blobs"] == 1
    assert not rig.rt.content.has(sha)
    assert not any((rig.edge_dir / "content" / "partial").iterdir())
    assert "more than its signed size" in caplog.text

    async def endless_batch(request: web.Request, status: int, body: bytes) -> web.StreamResponse | None:
        if not is_down(request):
            return None
        out = web.StreamResponse(headers={"Content-Type": "application/x-msgpack"})
        await out.prepare(request)
        for _ in range(200):  # 12.8 MB and counting: more than any signed batch may be
            await out.write(os.urandom(64 * 1024))
        return out

    rig.mitm.tamper = endless_batch
    await rig.error_contains("answer longer than")


async def test_a_revoked_edge_key_is_refused_until_the_village_reenrolls_with_a_new_bundle(
        rig: Rig, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    old_key = rig.rt.holder.key.public
    await revoke_edge(rig.kit.hub.store, "v1")
    st = await rig.error_contains("revoked")
    assert st["sync"]["key_revoked"] is True and st["sync"]["phase"] == "revoked"
    sub = {"id": "3f0c9a52-6f7e-4a53-9d55-0a1b2c3d4e5f", "kind": "feedback", "device_id": "stb-1",
           "body": {"text": "路灯坏了"}}
    stb = await register_with(rig.edge, "stb-1")
    assert (await rig.edge.post("/api/v1/submissions", json=sub, headers=stb.headers)).status == 201
    await asyncio.sleep(1.0)
    assert await rig.kit.hub.store.get_submission(sub["id"]) is None  # refused while revoked

    apply_bundle(rig.edge_dir, await new_bundle(rig))  # the technician brings a new bundle
    await rig.until("the submission at the hub", lambda: rig.kit.hub.store.get_submission(sub["id"]))
    assert rig.rt.holder.key.public != old_key
    st = await rig.status()
    assert st["sync"]["key_revoked"] is False
    assert "key was revoked" in caplog.text


async def _has(rig: Rig, title: str) -> bool:
    return title in await rig.notice_titles()


@pytest.fixture(autouse=True)
def _log_at_warning(caplog: Any) -> None:
    caplog.set_level(logging.WARNING)

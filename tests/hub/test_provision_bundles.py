"""One enrollment token per bundle: `village-provision make`, `list` and `revoke` run as real processes on the hub's
data dir while the hub serves enrollments from it (the field trap of issue 14)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

from hub import enroll_bundles
from hub.store import HubStore
from protocol.keys import NodeKey
from provisioning.bundle import Bundle, open_bundle
from provisioning.receipts import token_hash

from .kit import HubKit, enroll_body

BIN = Path(sys.executable).parent


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(str(BIN / "village-provision"), *args, cwd="/",
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def make(kit: HubKit, out: Path, *extra: str) -> Bundle:
    code, stdout, stderr = await cli("make", "--hub-data", str(kit.data_dir), "--village", "v1",
                                     "--hub-url", "http://127.0.0.1:8700", "--out", str(out), *extra)
    assert code == 0, stderr
    bundle = open_bundle(await asyncio.to_thread(out.read_bytes), pinned_root=kit.hub.keys.root.public)
    assert bundle.bundle_id is not None and f"bundle {bundle.bundle_id} " in stdout
    return bundle


async def enroll(kit: HubKit, bundle: Bundle, key: NodeKey) -> tuple[int, dict[str, str]]:
    resp = await kit.client.post("/api/v1/enroll", json=enroll_body("v1", bundle.enroll_token, key))
    return resp.status, await resp.json()


async def listed(kit: HubKit) -> dict[str, list[str]]:
    code, stdout, stderr = await cli("list", "--hub-data", str(kit.data_dir))
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].split() == ["bundle", "village", "made", "by", "expires", "state"]
    return {line.split()[0]: line.split() for line in lines[1:]}


async def test_a_second_bundle_for_a_village_leaves_the_first_working_until_one_enrolls(
        kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    first = await make(kit, tmp_path / "first.vnb", "--by", "老王")
    second = await make(kit, tmp_path / "second.vnb")
    assert first.enroll_token != second.enroll_token and first.bundle_id != second.bundle_id
    rows = await listed(kit)
    assert rows[str(first.bundle_id)][1] == "v1" and rows[str(first.bundle_id)][3] == "老王"
    assert rows[str(first.bundle_id)][5] == rows[str(second.bundle_id)][5] == "valid"

    box = NodeKey.generate()
    status, _ = await enroll(kit, first, box)
    assert status == 200  # the second bundle did not invalidate the first
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key == box.public

    status, answer = await enroll(kit, second, NodeKey.generate())
    assert status == 403 and answer["error"] == "bundle_superseded"
    assert "enrolled with another of its bundles" in answer["detail"]
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key == box.public  # the refusal changed nothing
    assert (await enroll(kit, first, box))[0] == 200  # the box asking again gets the same answer
    rows = await listed(kit)
    assert (rows[str(first.bundle_id)][5], rows[str(second.bundle_id)][5]) == ("used", "superseded")


async def test_a_bundle_made_after_the_box_enrolled_still_enrolls_a_replacement_box(
        kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    assert (await enroll(kit, await make(kit, tmp_path / "a.vnb"), NodeKey.generate()))[0] == 200
    replacement = NodeKey.generate()
    assert (await enroll(kit, await make(kit, tmp_path / "b.vnb"), replacement))[0] == 200
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key == replacement.public


async def test_a_revoked_bundle_is_refused_with_a_sentence_and_the_village_stays_unenrolled(
        kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    bundle = await make(kit, tmp_path / "lost.vnb")
    code, stdout, _ = await cli("revoke", "--hub-data", str(kit.data_dir), str(bundle.bundle_id))
    assert code == 0 and f"bundle {bundle.bundle_id} of village v1 is revoked" in stdout
    status, answer = await enroll(kit, bundle, NodeKey.generate())
    assert status == 403 and answer["error"] == "bundle_revoked"
    assert answer["detail"].startswith(f"bundle {bundle.bundle_id} was revoked at the hub at ")
    village = await kit.hub.store.get_village("v1")
    assert village is not None and village.edge_key is None
    assert (await listed(kit))[str(bundle.bundle_id)][5] == "revoked"


async def test_an_expired_bundle_is_refused_with_a_sentence(kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    bundle = await make(kit, tmp_path / "old.vnb", "--days", str(1.0 / 86400))  # a one-second bundle
    await asyncio.sleep(1.2)
    status, answer = await enroll(kit, bundle, NodeKey.generate())
    assert status == 403 and answer["error"] == "token_expired"
    assert answer["detail"].startswith(f"bundle {bundle.bundle_id} expired at ")
    assert (await listed(kit))[str(bundle.bundle_id)][5] == "expired"


async def test_revoking_an_unknown_or_a_used_bundle_exits_2_with_a_sentence(kit: HubKit, tmp_path: Path) -> None:
    await kit.add_village("v1")
    code, _, stderr = await cli("revoke", "--hub-data", str(kit.data_dir), "v1-nothere")
    assert code == 2 and stderr.startswith("cannot revoke: no bundle 'v1-nothere'")
    used = await make(kit, tmp_path / "used.vnb")
    assert (await enroll(kit, used, NodeKey.generate()))[0] == 200
    code, _, stderr = await cli("revoke", "--hub-data", str(kit.data_dir), str(used.bundle_id))
    assert code == 2 and "already enrolled the village's box" in stderr
    assert (await listed(kit))[str(used.bundle_id)][5] == "used"


async def test_a_token_issued_by_an_older_hub_keeps_working_as_a_legacy_bundle(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = HubStore(path)
    await store.open()
    await store.close()
    token = "a-token-on-a-stick-made-before-the-upgrade"
    # What an older hub left: one token per village, in the villages table.
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO towns (id, name, created_at) VALUES ('t1', '镇', 0)")
        db.execute("INSERT INTO villages (id, name, town_id, created_at, enroll_token_hash, token_expires_at)"
                   " VALUES ('v1', '一村', 't1', 0, ?, ?)", (token_hash(token), time.time() + 3600))
    store = HubStore(path)
    await store.open()
    try:
        key = NodeKey.generate()
        village = await enroll_bundles.enroll_with_token(store, "v1", token, key.public)
        assert village.edge_key == key.public
        assert [(b.id, b.state(time.time())) for b in await store.list_bundles("v1")] == [("legacy-v1", "used")]
    finally:
        await store.close()

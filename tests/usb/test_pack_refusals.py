"""Packs a box must refuse as a whole, before any of them is applied: another village's, an untrusted signer's,
one naming a `..` path, one with a damaged batch. Run against a real in-process edge and a folder as the stick."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from edge.app import create_app
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from edge.runtime import RUNTIME
from edge.usb.activity import activity_for
from edge.usb.stick_job import service_stick
from protocol.feed import GENESIS, chain, feed_name, make_batch
from protocol.keys import NodeKey
from protocol.records import put
from protocol.trust import make_trust
from provisioning.bundle import make_bundle
from provisioning.packs import PackBatch, PackBlob, make_index
from provisioning.stick import DirStick

MEDIA = b"\x89PNG fake picture bytes" * 100
SHA = hashlib.sha256(MEDIA).hexdigest()


def notice_op(n: int) -> dict[str, Any]:
    body = {"title": f"通知{n}", "body": "内容", "area": "community", "priority": "normal", "scope": "city",
            "published_at": "2030-01-01T08:00:00Z", "expires_at": None}
    return put("notice", f"n{n}", body, [{"sha256": SHA, "size": len(MEDIA), "mime": "image/png"}])


def write_pack(root: Path, signing: NodeKey, trust: bytes, village: str = "v1", blob_path: tuple[str, ...] = (),
               damage: bool = False, after: int = 0) -> None:
    folder = root / "VILLAGENET" / "packs" / village
    (folder / "blobs").mkdir(parents=True)
    entries = chain(feed_name("down", village), 0, GENESIS, [notice_op(1), notice_op(2), notice_op(3)])[after:]
    batch = make_batch(signing, feed_name("down", village), entries, 0, GENESIS)
    if damage:  # one notice's title changed on the stick after signing
        batch = batch.replace("通知2".encode(), "通知9".encode())
    (folder / "b000001.vnb").write_bytes(bytes(batch))
    (folder / "blobs" / SHA).write_bytes(MEDIA)
    index = make_index(signing, village, after, 3, trust, [PackBatch("b000001.vnb", after + 1, 3, len(batch))],
                       [PackBlob(SHA, len(MEDIA), blob_path or ("blobs", SHA))])
    (folder / "pack.vnp").write_bytes(index)


@pytest.fixture
async def box(aiohttp_client: Any, tmp_path: Path) -> Any:
    root, signing = NodeKey.generate(), NodeKey.generate()
    trust = make_trust(root, "测试平台", [signing.public], version=1)
    apply_bundle(tmp_path / "edge", make_bundle(root, trust, "v1", "一村", "t1", "http://127.0.0.1:9", "tok"))
    client = await aiohttp_client(create_app(load_config(tmp_path / "edge", mdns=False, backoff_max_s=1.0)))
    return client.app[RUNTIME], signing, trust


async def run_stick(rt: Any, root: Path) -> dict[str, Any]:
    summary = await service_stick(rt, DirStick(root), "test-stick", activity_for(rt.config.data_dir), lambda: True)
    assert summary is not None
    return next(a for a in summary["actions"] if a["what"] == "pack")


async def notice_count(rt: Any) -> int:
    return int(await rt.db.fetchvalue("SELECT COUNT(*) FROM notices", default=0))


async def test_a_good_pack_applies_notices_and_media(box: Any, tmp_path: Path):
    rt, signing, trust = box
    write_pack(tmp_path / "stick", signing, trust)
    action = await run_stick(rt, tmp_path / "stick")
    assert (action["result"], action["entries"], action["blobs"]) == ("applied", 3, 1)
    assert await notice_count(rt) == 3 and rt.content.path_for(SHA).read_bytes() == MEDIA


@pytest.mark.parametrize(("case", "code"), [
    ("other_village", "wrong_village"),
    ("untrusted_signer", "unknown_key"),
    ("dotdot_blob_path", "unsafe_path"),
    ("damaged_batch", "broken_chain"),
    ("starts_past_what_the_box_has", "wrong_sequence"),
])
async def test_a_bad_pack_is_refused_whole_with_its_reason(box: Any, tmp_path: Path, case: str, code: str):
    rt, signing, trust = box
    stick = tmp_path / "stick"
    if case == "other_village":
        write_pack(stick, signing, trust, village="v2")
    elif case == "untrusted_signer":
        write_pack(stick, NodeKey.generate(), trust)
    elif case == "dotdot_blob_path":
        write_pack(stick, signing, trust, blob_path=("..", "..", "provision.json"))
    elif case == "damaged_batch":
        write_pack(stick, signing, trust, damage=True)
    else:
        write_pack(stick, signing, trust, after=1)
    action = await run_stick(rt, stick)
    assert (action["result"], action["code"]) == ("refused", code), action
    if code == "wrong_sequence":
        assert "village-hub pack export --after 0" in action["detail"]
    assert await notice_count(rt) == 0
    assert not rt.content.has(SHA)
    receipt = next((stick / "VILLAGENET" / "receipts").iterdir())
    assert receipt.name == f"{rt.holder.key.node_id}.vnr"


async def test_a_pack_for_a_box_not_yet_set_up_is_refused_with_what_to_do(aiohttp_client: Any, tmp_path: Path):
    client = await aiohttp_client(create_app(load_config(tmp_path / "fresh", mdns=False)))
    rt = client.app[RUNTIME]
    root, signing = NodeKey.generate(), NodeKey.generate()
    write_pack(tmp_path / "stick", signing, make_trust(root, "平台", [signing.public], version=1))
    action = await run_stick(rt, tmp_path / "stick")
    assert (action["result"], action["code"]) == ("refused", "not_provisioned")
    assert "provision.vnb" in action["detail"] and await notice_count(rt) == 0

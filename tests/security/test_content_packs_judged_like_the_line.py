"""Finding (Low): content packs judged retired keys by the box's own clock and skipped the freeze check, unlike the
line. A pack from a stick now goes through the line's receiver: the hub's signed time decides, replays are refused.

A real in-process edge, a folder as the stick, the same job the USB watcher runs."""

from __future__ import annotations

import time
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
from provisioning.packs import PackBatch, make_index
from provisioning.stick import DirStick

NOW = int(time.time())


def write_pack(stick: Path, signing: NodeKey, trust: bytes, signed_at: int) -> None:
    folder = stick / "VILLAGENET" / "packs" / "v1"
    folder.mkdir(parents=True)
    body = {"title": "停电通知", "body": "周六停电。", "area": "community", "priority": "normal", "scope": "city",
            "published_at": "2030-01-01T08:00:00Z", "expires_at": None}
    entries = chain(feed_name("down", "v1"), 0, GENESIS, [put("notice", "n1", body)])
    batch = make_batch(signing, feed_name("down", "v1"), entries, 0, GENESIS, now=signed_at)
    (folder / "b000001.vnb").write_bytes(batch)
    (folder / "pack.vnp").write_bytes(make_index(signing, "v1", 0, 1, trust, [PackBatch("b000001.vnb", 1, 1,
                                                                                          len(batch))], []))


@pytest.fixture
async def box(aiohttp_client: Any, tmp_path: Path) -> Any:
    """A box whose hub retired its old signing key 30 s from now, by the box's own clock."""
    root, old, new = NodeKey.generate(), NodeKey.generate(), NodeKey.generate()
    trust = make_trust(root, "测试平台", [new.public], version=1, retired_keys=[(old.public, NOW + 30)])
    apply_bundle(tmp_path / "edge", make_bundle(root, trust, "v1", "一村", "t1", "http://127.0.0.1:9", "tok"))
    client = await aiohttp_client(create_app(load_config(tmp_path / "edge", mdns=False, backoff_max_s=1.0)))
    return client.app[RUNTIME], old, new, trust


async def run_stick(rt: Any, stick: Path) -> dict[str, Any]:
    summary = await service_stick(rt, DirStick(stick), "test-stick", activity_for(rt.config.data_dir), lambda: True)
    assert summary is not None
    return next(a for a in summary["actions"] if a["what"] == "pack")


async def notices(rt: Any) -> int:
    return int(await rt.db.fetchvalue("SELECT COUNT(*) FROM notices", default=0))


async def test_a_pack_signed_by_a_key_retired_by_the_hubs_signed_time_is_refused_though_the_box_clock_lags(
        box: Any, tmp_path: Path) -> None:
    rt, old, _, trust = box
    # The line has shown the box a signed hub time 50 s ahead of its own clock: past the old key's retirement.
    await rt.sync.clock.advance(NOW + 50)
    write_pack(tmp_path / "stick", old, trust, signed_at=NOW)
    action = await run_stick(rt, tmp_path / "stick")
    assert (action["result"], action["code"]) == ("refused", "unknown_key"), action
    assert await notices(rt) == 0


async def test_a_pack_signed_before_the_hub_time_the_box_has_seen_is_refused_as_a_replay(
        box: Any, tmp_path: Path) -> None:
    rt, _, new, trust = box
    await rt.sync.clock.advance(NOW + 50)
    write_pack(tmp_path / "stick", new, trust, signed_at=NOW - 3600)  # an hour older than what the line brought
    action = await run_stick(rt, tmp_path / "stick")
    assert (action["result"], action["code"]) == ("refused", "replayed"), action
    assert "replayed or stale" in action["detail"]
    assert await notices(rt) == 0


async def test_a_fresh_pack_applies_and_its_signed_time_moves_the_box_floor(box: Any, tmp_path: Path) -> None:
    rt, _, new, trust = box
    write_pack(tmp_path / "stick", new, trust, signed_at=NOW + 20)
    action = await run_stick(rt, tmp_path / "stick")
    assert (action["result"], action["entries"]) == ("applied", 1), action
    assert await notices(rt) == 1
    assert rt.sync.clock.freshest == NOW + 20  # a later replayed batch, by line or stick, is refused against it

"""Rotating the hub's signing key needs no downtime; a retired key is refused once its grace period ends."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from hub.key_rotation import retire_old_keys, rotate_signing_key
from protocol import codec, compression
from protocol.feed import Entry, feed_name, make_batch
from protocol.keys import NodeKey
from protocol.trust import open_trust

from .rig import Rig


def _trust_version(rig: Rig) -> int:
    return rig.rt.holder.trust().version


async def test_edges_follow_a_key_rotation_and_refuse_the_retired_key_after_it_expires(rig: Rig) -> None:
    kit = rig.kit
    old_key = NodeKey.load(kit.data_dir / "signing.key")  # kept by the test: a leaked old key, say
    await kit.notice(title="旧钥匙签的")
    await rig.until("the first notice", lambda: _has(rig, "旧钥匙签的"))

    rotate_signing_key(kit.data_dir)  # the running hub picks it up; nothing restarts
    await kit.notice(title="新钥匙签的")
    await rig.until("the notice signed by the new key", lambda: _has(rig, "新钥匙签的"))
    await rig.until("trust version 2", lambda: _true(_trust_version(rig) == 2))
    assert rig.rt.holder.trust().can_sign(kit.hub.keys.signing.public)

    retire_old_keys(kit.data_dir, grace_s=3)
    await rig.until("trust version 3", lambda: _true(_trust_version(rig) == 3))
    doc = open_trust(kit.hub.keys.trust_raw, kit.hub.keys.root.public)
    assert old_key.public not in doc.signing_keys and doc.retired_keys[0][0] == old_key.public

    async def resign_with_old_key(request: web.Request, status: int, body: bytes) -> bytes | None:
        if not request.path.endswith("/down") or status != 200:
            return None
        m = codec.decode(compression.decompress(body, 8 << 20))
        if not m["ops"]:
            return None
        entries = _entries(m)
        forged = make_batch(old_key, feed_name("down", "v1"), entries, 0, b"", compact=True, tail_seq=m["tail_seq"])
        return compression.compress(forged)

    rig.mitm.tamper = resign_with_old_key
    await kit.notice(title="宽限期内")  # within the grace period the old key still counts
    await rig.until("the notice signed by the retired key in its grace period", lambda: _has(rig, "宽限期内"))
    await asyncio.sleep(3.5)
    await kit.notice(title="过期之后")
    st = await rig.error_contains("does not trust")
    assert "过期之后" not in await rig.notice_titles()
    assert st["down"]["seq"] == 3


def _entries(m: dict[str, Any]) -> list[Entry]:
    from protocol.feed import entry_hash

    out, prev = [], m["first_prev"]
    for i, op in enumerate(m["ops"]):
        seq = m["first_seq"] + i
        h = entry_hash(feed_name("down", "v1"), seq, prev, op)
        out.append(Entry(seq, prev, op, h))
        prev = h
    return out


async def _has(rig: Rig, title: str) -> bool:
    return title in await rig.notice_titles()


async def _true(value: bool) -> bool:
    return value


async def test_a_trust_document_of_a_lower_version_or_another_root_is_refused(rig: Rig) -> None:
    kit = rig.kit
    first = kit.hub.keys.trust_raw
    rotate_signing_key(kit.data_dir)
    await rig.until("trust version 2", lambda: _true(_trust_version(rig) == 2))

    async def old_trust(request: web.Request, status: int, body: bytes) -> bytes | None:
        return first if request.path == "/api/v1/trust" else None

    rig.mitm.tamper = old_trust
    await rig.error_contains("older than 2")
    assert _trust_version(rig) == 2

    from protocol.trust import make_trust

    stranger = NodeKey.generate()
    foreign = make_trust(stranger, "假平台", [stranger.public], version=99)

    async def foreign_trust(request: web.Request, status: int, body: bytes) -> bytes | None:
        return foreign if request.path == "/api/v1/trust" else None

    rig.mitm.tamper = foreign_trust
    await rig.error_contains("not signed by the pinned hub root key")
    assert _trust_version(rig) == 2

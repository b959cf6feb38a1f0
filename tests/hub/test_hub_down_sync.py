"""Pulling the down feed: signed batches an edge can verify, bounded by bytes and `after`, and long polls."""

from __future__ import annotations

import asyncio
import time

from protocol import codec
from protocol.feed import GENESIS, chain, feed_name, new_entries
from protocol.keys import NodeKey
from protocol.records import put

from .kit import HubKit


async def test_a_down_batch_verifies_under_the_trust_document_and_carries_the_notices(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    first = await kit.notice(title="一")
    second = await kit.notice(title="二")
    batch = await edge.get_down(after=0)
    assert batch.signer == kit.hub.keys.signing.public
    assert [e.op["id"] for e in batch.entries] == [first["id"], second["id"]]
    assert [e.seq for e in new_entries(batch, 0, GENESIS)] == [1, 2]


async def test_after_skips_what_the_edge_already_holds(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    await kit.notice()
    second = await kit.notice()
    batch = await edge.get_down(after=1)
    assert [(e.seq, e.op["id"]) for e in batch.entries] == [(2, second["id"])]


async def test_a_batch_respects_max_bytes_but_always_carries_one_entry(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    for i in range(6):
        await kit.notice(title=f"通知 {i}", body="长" * 1000)  # about 3 KB each
    path_max = 8000
    path = f"/api/v1/sync/v1/down?after=0&max_bytes={path_max}"
    resp = await kit.client.get(path, headers=edge.signed("GET", path))
    data = await resp.read()
    assert len(data) <= path_max
    batch = edge.verify_down(data)
    assert 1 < len(batch.entries) < 6

    tiny = await edge.get_down(after=0, max_bytes=10)
    assert [e.seq for e in tiny.entries] == [1]

    seen, have = [], 0
    while True:  # an edge walking the feed batch by batch gets every entry once, in order
        b = await edge.get_down(after=have, max_bytes=path_max)
        if not b.entries:
            break
        seen += [e.seq for e in b.entries]
        have = b.entries[-1].seq
    assert seen == [1, 2, 3, 4, 5, 6]


async def test_with_nothing_new_the_batch_is_empty_and_proves_the_head(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    await kit.notice()
    full = await edge.get_down(after=0)
    empty = await edge.get_down(after=1)
    assert empty.entries == []
    assert (empty.head_seq, empty.head_hash) == (1, full.entries[0].hash)


async def test_a_long_poll_returns_as_soon_as_a_notice_is_published(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    started = time.monotonic()
    poll = asyncio.create_task(edge.get_down(after=0, wait=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    notice = await kit.notice()
    batch = await asyncio.wait_for(poll, timeout=5)
    assert [e.op["id"] for e in batch.entries] == [notice["id"]]
    assert time.monotonic() - started < 5


async def test_a_long_poll_with_nothing_new_waits_then_answers_an_empty_batch(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    started = time.monotonic()
    batch = await edge.get_down(after=0, wait=0.5)
    assert batch.entries == [] and batch.head_seq == 0
    assert 0.4 < time.monotonic() - started < 5


async def test_a_long_poll_sees_an_append_made_by_another_process(kit: HubKit) -> None:
    # `village-hub village add` appends from its own process, which cannot wake our waiters: the recheck does.
    kit.hub.down._recheck_s = 0.2
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    poll = asyncio.create_task(edge.get_down(after=0, wait=10))
    await asyncio.sleep(0.3)
    async with kit.hub.store.transaction() as tx:  # an append that notifies nobody
        await tx.insert_down_entries("v1", chain(feed_name("down", "v1"), 0, GENESIS, [put("notice", "n-x", {})]))
    batch = await asyncio.wait_for(poll, timeout=5)
    assert [e.op["id"] for e in batch.entries] == ["n-x"]


async def test_down_requests_without_a_valid_signature_are_unauthorized(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    path = "/api/v1/sync/v1/down?after=0"
    assert (await kit.client.get(path)).status == 401
    bad = edge.signed("GET", "/api/v1/sync/v1/down?after=5")  # signed for another query
    resp = await kit.client.get(path, headers=bad)
    assert resp.status == 401
    assert set(await resp.json()) >= {"error", "detail"}
    garbage = await kit.client.get(path, headers={"X-VillageNet-Signature": "not.a.signature"})
    assert garbage.status == 401


async def test_a_key_enrolled_for_another_village_is_forbidden(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.add_village("v2")
    await kit.enroll("v1")
    other = await kit.enroll("v2")
    path = "/api/v1/sync/v1/down?after=0"
    resp = await kit.client.get(path, headers=other.signed("GET", path))
    assert resp.status == 403
    stranger = NodeKey.generate()
    resp = await kit.client.get(path, headers=other.signed("GET", path, key=stranger))
    assert resp.status == 403


async def test_down_sync_updates_last_sync_at(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    await edge.get_down()
    resp = await kit.client.get("/api/v1/villages", headers=kit.admin)
    (village,) = (await resp.json())["villages"]
    assert village["last_sync_at"] is not None and village["last_sync_at"].endswith("Z")


async def test_stored_ops_are_canonical_so_batch_sizes_are_predictable(kit: HubKit) -> None:
    await kit.add_village("v1")
    await kit.notice()
    (row,) = await kit.hub.store.down_entries_after("v1", 0, 1)
    assert codec.encode(codec.decode(row[2])) == row[2]

"""Receiving the up feed: each submission exactly once, and a refused batch changes nothing."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from typing import Any

from protocol import codec
from protocol.ack import open_ack
from protocol.feed import feed_name
from protocol.keys import NodeKey
from protocol.records import put

from .kit import HubKit, TestEdge


async def _edge(kit: HubKit, village_id: str = "v1") -> TestEdge:
    await kit.add_village(village_id)
    return await kit.enroll(village_id)


async def _state(kit: HubKit, village_id: str = "v1") -> tuple[Any, ...]:
    """Everything an up batch could change, to compare before and after a refusal."""
    store = kit.hub.store
    subs = await store.list_submissions(None, None, 1000)
    return (await store.up_head(village_id), [s.id for s in subs])


async def test_an_up_batch_is_applied_and_its_submissions_listed(kit: HubKit) -> None:
    edge = await _edge(kit)
    sub_id = str(uuid.uuid4())
    status, answer = await edge.push(edge.batch(edge.next_entries([edge.submission_op(sub_id)])))
    assert (status, answer["have"]) == (200, 1)  # the answer also carries the signed ack (issue 3)
    assert (await edge.position())["seq"] == 1
    resp = await kit.client.get("/api/v1/submissions", headers=kit.admin)
    (sub,) = (await resp.json())["submissions"]
    assert sub["id"] == sub_id and sub["village_id"] == "v1" and sub["kind"] == "feedback"
    assert sub["body"] == {"text": "路灯坏了"} and sub["device_id"] == "stb-1"
    assert sub["created_at"] == "2030-01-01T08:00:00Z" and sub["received_at"].endswith("Z")
    assert sub["replies"] == []


async def test_a_replayed_batch_changes_nothing(kit: HubKit) -> None:
    edge = await _edge(kit)
    data = edge.batch(edge.next_entries([edge.submission_op(), edge.submission_op()]))
    assert (await edge.push(data))[0] == 200
    before = await _state(kit)
    status, answer = await edge.push(data)
    assert (status, answer["have"]) == (200, 2)  # the answer also carries the signed ack (issue 3)
    assert await _state(kit) == before
    assert len(before[1]) == 2


async def test_the_same_submission_id_in_a_later_entry_is_not_stored_twice(kit: HubKit) -> None:
    edge = await _edge(kit)
    sub_id = str(uuid.uuid4())
    await edge.push(edge.batch(edge.next_entries([edge.submission_op(sub_id)])))
    status, answer = await edge.push(edge.batch(edge.next_entries([edge.submission_op(sub_id, text="again")])))
    assert (status, answer["have"]) == (200, 2)  # the answer also carries the signed ack (issue 3)
    resp = await kit.client.get("/api/v1/submissions", headers=kit.admin)
    subs = (await resp.json())["submissions"]
    assert [(s["id"], s["body"]["text"]) for s in subs] == [(sub_id, "路灯坏了")]


async def test_an_overlapping_batch_applies_only_the_new_part(kit: HubKit) -> None:
    edge = await _edge(kit)
    first = edge.next_entries([edge.submission_op()])
    await edge.push(edge.batch(first))
    second = edge.next_entries([edge.submission_op()])
    status, answer = await edge.push(edge.batch(first + second))
    assert (status, answer["have"]) == (200, 2)  # the answer also carries the signed ack (issue 3)
    assert len((await _state(kit))[1]) == 2


async def test_a_bad_signature_is_refused_and_nothing_applied(kit: HubKit) -> None:
    edge = await _edge(kit)
    m = codec.decode(edge.batch(edge.next_entries([edge.submission_op()])))
    m["sig"] = bytes(64)
    before = await _state(kit)
    status, answer = await edge.push(codec.encode(m))
    assert status == 403 and answer["error"] == "bad_signature" and answer["have"] == 0
    assert await _state(kit) == before


async def test_a_broken_chain_is_refused_and_nothing_applied(kit: HubKit) -> None:
    edge = await _edge(kit)
    entries = edge.next_entries([edge.submission_op(), edge.submission_op()])
    broken = [entries[0], dataclasses.replace(entries[1], prev=b"\x01" * 32)]
    status, answer = await edge.push(edge.batch(broken))
    assert (status, answer["error"], answer["have"]) == (400, "broken_chain", 0)
    assert await _state(kit) == (await kit.hub.store.up_head("v1"), [])


async def test_a_batch_that_does_not_chain_onto_the_hub_head_is_refused(kit: HubKit) -> None:
    edge = await _edge(kit)
    await edge.push(edge.batch(edge.next_entries([edge.submission_op()])))
    fork = TestEdge(kit, "v1", edge.key)  # same key, a different history from seq 1
    fork.next_entries([fork.submission_op()])
    before = await _state(kit)
    status, answer = await edge.push(fork.batch(fork.next_entries([fork.submission_op()])))
    assert (status, answer["error"], answer["have"]) == (400, "broken_chain", 1)
    assert await _state(kit) == before


async def test_a_batch_with_a_gap_is_a_wrong_sequence_and_says_where_to_resume(kit: HubKit) -> None:
    edge = await _edge(kit)
    edge.next_entries([edge.submission_op()])  # seq 1 never sent
    status, answer = await edge.push(edge.batch(edge.next_entries([edge.submission_op()])))
    assert (status, answer["error"], answer["have"]) == (409, "wrong_sequence", 0)
    assert await _state(kit) == (await kit.hub.store.up_head("v1"), [])


async def test_a_batch_signed_by_an_unknown_key_is_refused(kit: HubKit) -> None:
    edge = await _edge(kit)
    stranger = NodeKey.generate()
    status, answer = await edge.push(edge.batch(edge.next_entries([edge.submission_op()]), key=stranger))
    assert (status, answer["error"], answer["have"]) == (403, "unknown_key", 0)
    assert (await _state(kit))[1] == []


async def test_a_batch_for_another_village_feed_is_refused(kit: HubKit) -> None:
    edge = await _edge(kit)
    entries = edge.next_entries([edge.submission_op()])
    data = edge.batch(entries, feed=feed_name("up", "v2"))
    status, answer = await edge.push(data)
    assert (status, answer["error"]) == (403, "wrong_village")
    assert (await _state(kit))[1] == []


async def test_an_edge_cannot_push_into_another_village(kit: HubKit) -> None:
    edge = await _edge(kit, "v1")
    other = await _edge(kit, "v2")
    data = other.batch(other.next_entries([other.submission_op()]))
    status, answer = await edge.push(data, village_id="v2")  # v1's key on v2's route
    assert status == 403
    assert (await _state(kit, "v2"))[1] == []


async def test_an_edge_cannot_write_hub_owned_records(kit: HubKit) -> None:
    edge = await _edge(kit)
    status, answer = await edge.push(edge.batch(edge.next_entries([put("notice", "fake", {"title": "x"})])))
    assert (status, answer["error"]) == (403, "not_owner")


async def test_one_malformed_submission_refuses_the_whole_batch(kit: HubKit) -> None:
    edge = await _edge(kit)
    good = edge.submission_op()
    bad = edge.submission_op(kind="bribe")
    status, answer = await edge.push(edge.batch(edge.next_entries([good, bad])))
    assert (status, answer["error"], answer["have"]) == (400, "malformed", 0)
    assert await _state(kit) == (await kit.hub.store.up_head("v1"), [])


async def test_garbage_bytes_are_malformed(kit: HubKit) -> None:
    edge = await _edge(kit)
    status, answer = await edge.push(b"\xc1 not msgpack")
    assert (status, answer["error"], answer["have"]) == (400, "malformed", 0)


async def test_other_edge_records_are_kept_as_their_latest_put(kit: HubKit) -> None:
    edge = await _edge(kit)
    ops = [put("village_info", "population", {"n": 1}), put("village_info", "population", {"n": 2})]
    status, _ = await edge.push(edge.batch(edge.next_entries(ops)))
    assert status == 200
    async with kit.hub.store.transaction() as tx:
        rows = await tx._all("SELECT body FROM edge_records WHERE village_id = 'v1'")
    assert [r["body"] for r in rows] == ['{"n":2}']


async def test_a_replacement_box_starts_its_own_up_feed_and_its_submissions_are_kept(kit: HubKit) -> None:
    old = await _edge(kit)
    await old.push(old.batch(old.next_entries([old.submission_op(), old.submission_op()])))
    new = await kit.enroll("v1")  # a new bundle, a new box with a new key and an empty database
    position = await new.position()
    assert (position["seq"], position["hash"]) == (0, "00" * 32)
    ack = open_ack(base64.urlsafe_b64decode(position["ack"]), feed_name("up", "v1"),
                   lambda key: key == kit.hub.keys.signing.public)
    assert (ack.seq, ack.hash) == (0, bytes(32))  # where the hub stands, signed: what alone marks delivery
    status, answer = await new.push(new.batch(new.next_entries([new.submission_op()])))
    assert (status, answer["have"]) == (200, 1)  # the answer also carries the signed ack (issue 3)
    assert len((await _state(kit))[1]) == 3

"""Feed entries and signed batches: what a receiver accepts and what it refuses."""

import pytest

from protocol import codec, records
from protocol.errors import (
    ChainError,
    DecodeError,
    OwnershipError,
    SequenceError,
    SignatureError,
    UnknownKey,
    WrongVillage,
)
from protocol.feed import GENESIS, chain, feed_name, make_batch, new_entries, open_batch
from protocol.keys import NodeKey

FEED = feed_name("up", "v1")


def submission(i: int) -> dict:
    return records.put("submission", f"id-{i}", {"kind": "feedback", "device_id": "d", "body": {"n": i}, "created_at": "x"})


@pytest.fixture
def edge_key() -> NodeKey:
    return NodeKey.generate()


def signed(key: NodeKey, entries, feed: str = FEED) -> bytes:
    return make_batch(key, feed, entries, 0, GENESIS)


def test_a_valid_batch_opens_and_yields_every_new_entry(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(i) for i in range(5)])
    batch = open_batch(signed(edge_key, entries), FEED, "edge", lambda k: k == edge_key.public)
    assert [e.seq for e in new_entries(batch, 0, GENESIS)] == [1, 2, 3, 4, 5]


def test_a_batch_from_an_unknown_key_is_refused(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(1)])
    with pytest.raises(UnknownKey):
        open_batch(signed(NodeKey.generate(), entries), FEED, "edge", lambda k: k == edge_key.public)


def test_a_batch_with_a_changed_entry_fails_its_signature(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(1), submission(2)])
    data = bytearray(signed(edge_key, entries))
    m = codec.decode(bytes(data))
    m["entries"][1][2]["body"]["body"]["n"] = 99
    m["entries"][0][2]["body"]["body"]["n"] = 98
    with pytest.raises(ChainError):
        open_batch(codec.encode(m), FEED, "edge", lambda k: True)


def test_a_batch_with_a_forged_signature_is_refused(edge_key):
    m = codec.decode(signed(edge_key, chain(FEED, 0, GENESIS, [submission(1)])))
    m["sig"] = bytes(64)
    with pytest.raises(SignatureError):
        open_batch(codec.encode(m), FEED, "edge", lambda k: True)


def test_a_batch_for_another_village_is_refused(edge_key):
    other = feed_name("up", "v2")
    data = signed(edge_key, chain(other, 0, GENESIS, [submission(1)]), feed=other)
    with pytest.raises(WrongVillage):
        open_batch(data, FEED, "edge", lambda k: True)


def test_an_edge_cannot_write_a_hub_owned_record(edge_key):
    op = records.put("notice", "n1", {"title": "x"})
    data = signed(edge_key, chain(FEED, 0, GENESIS, [op]))
    with pytest.raises(OwnershipError):
        open_batch(data, FEED, "edge", lambda k: True)


def test_a_replayed_batch_yields_nothing(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(i) for i in range(3)])
    batch = open_batch(signed(edge_key, entries), FEED, "edge", lambda k: True)
    assert new_entries(batch, 3, entries[-1].hash) == []


def test_a_batch_leaving_a_gap_is_refused_with_what_the_receiver_has(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(i) for i in range(6)])
    data = make_batch(edge_key, FEED, entries[4:], 0, GENESIS)
    batch = open_batch(data, FEED, "edge", lambda k: True)
    with pytest.raises(SequenceError) as err:
        new_entries(batch, 2, entries[1].hash)
    assert err.value.have == 2


def test_an_overlapping_batch_applies_only_the_new_part(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(i) for i in range(6)])
    batch = open_batch(signed(edge_key, entries), FEED, "edge", lambda k: True)
    assert [e.seq for e in new_entries(batch, 4, entries[3].hash)] == [5, 6]


def test_a_forked_feed_does_not_chain_onto_what_the_receiver_holds(edge_key):
    mine = chain(FEED, 0, GENESIS, [submission(i) for i in range(3)])
    theirs = chain(FEED, 0, GENESIS, [submission(i + 10) for i in range(5)])
    batch = open_batch(signed(edge_key, theirs), FEED, "edge", lambda k: True)
    with pytest.raises(ChainError):
        new_entries(batch, 3, mine[-1].hash)


def test_truncated_or_trailing_bytes_are_refused(edge_key):
    data = signed(edge_key, chain(FEED, 0, GENESIS, [submission(1)]))
    with pytest.raises(DecodeError):
        open_batch(data[:-5], FEED, "edge", lambda k: True)
    with pytest.raises(DecodeError):
        open_batch(data + b"\x00", FEED, "edge", lambda k: True)


def test_an_empty_batch_proves_the_head_without_entries(edge_key):
    entries = chain(FEED, 0, GENESIS, [submission(1)])
    data = make_batch(edge_key, FEED, [], 1, entries[0].hash)
    batch = open_batch(data, FEED, "edge", lambda k: True)
    assert batch.head_seq == 1 and batch.entries == []

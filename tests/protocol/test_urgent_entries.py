"""Urgent entries of a down batch: emergency notices sent ahead of their turn, signed and verified with the batch."""

import pytest

from protocol import codec, records
from protocol.errors import DecodeError, OwnershipError, SignatureError
from protocol.feed import GENESIS, MAX_URGENT, Entry, chain, feed_name, make_batch, open_batch
from protocol.keys import NodeKey

FEED = feed_name("down", "v1")


def notice(i: int, priority: str = "normal") -> dict:
    return records.put("notice", f"n-{i}", {"title": f"通知{i}", "body": "村里的事务", "area": "safety",
                                           "priority": priority, "scope": "city"})


@pytest.fixture
def hub_key() -> NodeKey:
    return NodeKey.generate()


@pytest.fixture
def feed() -> list[Entry]:
    """Ten ordinary notices, then an emergency one at seq 11, then one more ordinary notice."""
    return chain(FEED, 0, GENESIS, [notice(i) for i in range(10)] + [notice(10, "emergency"), notice(11)])


def first_three(key: NodeKey, feed: list[Entry], urgent: list[Entry] | None = None) -> bytes:
    """A compact batch of entries 1-3 of the feed, carrying the emergency notice (seq 11) ahead of its turn."""
    return make_batch(key, FEED, feed[:3], 0, GENESIS, compact=True, tail_seq=len(feed),
                      urgent=[feed[10]] if urgent is None else urgent)


def opened(data: bytes, key: NodeKey):
    return open_batch(data, FEED, "hub", lambda k: k == key.public)


def test_an_emergency_notice_far_down_the_feed_comes_with_the_first_batch(hub_key, feed):
    batch = opened(first_three(hub_key, feed), hub_key)
    assert [e.seq for e in batch.entries] == [1, 2, 3]
    assert [(e.seq, e.hash, e.op["id"]) for e in batch.urgent] == [(11, feed[10].hash, "n-10")]


def test_a_batch_without_urgent_entries_carries_no_urgent_field(hub_key, feed):
    data = make_batch(hub_key, FEED, feed[:3], 0, GENESIS, compact=True, tail_seq=len(feed))
    assert "urgent" not in codec.decode(data)
    assert opened(data, hub_key).urgent == ()


def test_an_urgent_notice_changed_on_the_way_fails_the_batch_signature(hub_key, feed):
    m = codec.decode(first_three(hub_key, feed))
    m["urgent"][0][2]["body"]["title"] = "假通知：请转账"
    with pytest.raises(SignatureError):
        opened(codec.encode(m), hub_key)


def test_an_urgent_notice_added_by_someone_without_the_key_is_refused(hub_key, feed):
    m = codec.decode(make_batch(hub_key, FEED, feed[:3], 0, GENESIS, compact=True, tail_seq=len(feed)))
    forged = chain(FEED, 11, feed[10].hash, [notice(99, "emergency")])[0]
    m["urgent"] = [[forged.seq, forged.prev, forged.op]]
    with pytest.raises(SignatureError):
        opened(codec.encode(m), hub_key)


def test_urgent_notices_taken_off_a_batch_fail_its_signature(hub_key, feed):
    m = codec.decode(first_three(hub_key, feed))
    del m["urgent"]
    with pytest.raises(SignatureError):
        opened(codec.encode(m), hub_key)


def test_an_urgent_part_signed_by_another_key_is_refused(hub_key, feed):
    other = NodeKey.generate()
    theirs = codec.decode(first_three(other, feed))
    m = codec.decode(make_batch(hub_key, FEED, feed[:3], 0, GENESIS, compact=True, tail_seq=len(feed)))
    m["urgent"] = theirs["urgent"]
    with pytest.raises(SignatureError):
        opened(codec.encode(m), hub_key)


def test_only_emergency_notices_may_go_ahead(hub_key, feed):
    with pytest.raises(ValueError):
        first_three(hub_key, feed, urgent=[feed[11]])
    m = codec.decode(first_three(hub_key, feed))
    m["urgent"][0] = [feed[11].seq, feed[11].prev, feed[11].op]
    with pytest.raises(SignatureError):
        opened(codec.encode(m), hub_key)


def test_urgent_entries_must_lie_after_the_batch_and_within_the_signed_feed(hub_key, feed):
    with pytest.raises(ValueError):
        first_three(hub_key, feed, urgent=[feed[2]])  # entry 3 is in the batch itself
    short = codec.decode(make_batch(hub_key, FEED, feed[:3], 0, GENESIS, compact=True, tail_seq=5))
    short["urgent"] = [[feed[10].seq, feed[10].prev, feed[10].op]]
    with pytest.raises(SignatureError):  # the signature covers the urgent entries and the feed length
        opened(codec.encode(short), hub_key)


def test_an_edge_cannot_send_urgent_notices_up(hub_key):
    up = feed_name("up", "v1")
    submission = records.put("submission", "s1", {"kind": "feedback", "device_id": "d", "body": {}, "created_at": "x"})
    entries = chain(up, 0, GENESIS, [submission])
    urgent = chain(up, 1, entries[0].hash, [notice(2, "emergency")])
    # Signed by the sender itself, so only the owner rule stands in the way.
    data = make_batch(hub_key, up, entries, 0, GENESIS, compact=True, urgent=urgent)
    with pytest.raises(OwnershipError):
        open_batch(data, up, "edge", lambda k: True)


def test_a_version_1_batch_carries_no_urgent_entries(hub_key, feed):
    with pytest.raises(ValueError):
        make_batch(hub_key, FEED, feed[:3], 0, GENESIS, urgent=[feed[10]])
    m = codec.decode(make_batch(hub_key, FEED, feed[:3], 0, GENESIS))
    m["urgent"] = [[feed[10].seq, feed[10].prev, feed[10].op]]
    with pytest.raises(DecodeError):
        opened(codec.encode(m), hub_key)


def test_no_more_than_the_limit_of_urgent_entries_is_accepted(hub_key):
    many = chain(FEED, 0, GENESIS, [notice(0)] + [notice(i, "emergency") for i in range(1, MAX_URGENT + 2)])
    with pytest.raises(ValueError):
        make_batch(hub_key, FEED, many[:1], 0, GENESIS, compact=True, tail_seq=len(many), urgent=many[1:])
    m = codec.decode(make_batch(hub_key, FEED, many[:1], 0, GENESIS, compact=True, tail_seq=len(many),
                                urgent=many[1:MAX_URGENT + 1]))
    m["urgent"].append([many[-1].seq, many[-1].prev, many[-1].op])
    with pytest.raises(DecodeError):
        opened(codec.encode(m), hub_key)

"""The wire: compact batches carry the same entries in fewer bytes, a compression bomb is refused, the budget holds."""

from __future__ import annotations

import zlib

import pytest

from edge.sync.line_budget import LineBudget
from protocol import compression
from protocol.errors import DecodeError, TooLarge
from protocol.feed import GENESIS, chain, feed_name, make_batch, new_entries, open_batch
from protocol.keys import NodeKey
from protocol.records import put
from tests.hub.kit import HubKit

FEED = feed_name("up", "v1")


def _ops(n: int) -> list[dict]:
    return [put("submission", f"00000000-0000-4000-8000-{i:012d}",
                {"kind": "feedback", "device_id": "stb-1", "body": {"text": "村口的路灯坏了"}, "created_at": "x"})
            for i in range(n)]


def test_a_compact_compressed_batch_opens_to_the_same_entries_in_a_fraction_of_the_bytes() -> None:
    key = NodeKey.generate()
    entries = chain(FEED, 0, GENESIS, _ops(500))
    v1 = make_batch(key, FEED, entries, 0, GENESIS)
    v2 = compression.compress(make_batch(key, FEED, entries, 0, GENESIS, compact=True, tail_seq=900))
    batch = open_batch(compression.decompress(v2, 8 << 20), FEED, "edge", lambda k: k == key.public)
    assert [e.hash for e in new_entries(batch, 0, GENESIS)] == [e.hash for e in entries]
    assert batch.tail_seq == 900
    assert len(v2) < len(v1) / 5


def test_a_changed_op_in_a_compact_batch_breaks_its_signed_head() -> None:
    from protocol import codec
    from protocol.errors import ChainError

    key = NodeKey.generate()
    m = codec.decode(make_batch(key, FEED, chain(FEED, 0, GENESIS, _ops(3)), 0, GENESIS, compact=True))
    m["ops"][1]["body"]["body"]["text"] = "改过的"
    with pytest.raises(ChainError):
        open_batch(codec.encode(m), FEED, "edge", lambda k: True)


def test_a_compression_bomb_is_refused_at_the_cap_and_damaged_frames_are_malformed() -> None:
    bomb = compression.MAGIC + zlib.compress(b"\0" * (64 << 20), 9)
    assert len(bomb) < 100_000
    with pytest.raises(TooLarge):
        compression.decompress(bomb, 8 << 20)
    with pytest.raises(DecodeError):
        compression.decompress(compression.MAGIC + b"not zlib at all", 8 << 20)
    truncated = compression.compress(b"x" * 10_000)[:-4]
    with pytest.raises(DecodeError):
        compression.decompress(truncated, 8 << 20)


async def test_the_hub_refuses_a_compression_bomb_as_too_large_and_holds_nothing(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    bomb = compression.MAGIC + zlib.compress(b"\0" * (64 << 20), 9)
    status, answer = await edge.push(bomb)
    assert (status, answer["error"]) == (413, "too_large")
    assert (await edge.position())["seq"] == 0


def test_the_sync_budget_makes_a_transfer_over_its_share_wait() -> None:
    now = [0.0]
    budget = LineBudget(100_000, burst=10_000, clock=lambda: now[0])
    assert budget.debt_after(10_000) == 0.0  # the burst is free
    assert budget.debt_after(50_000) == pytest.approx(0.5)  # half a second of line at 100 kB/s
    now[0] = 0.5
    assert budget.debt_after(0) == 0.0
    assert LineBudget(0).debt_after(10**9) == 0.0  # no cap configured

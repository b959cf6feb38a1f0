"""Issue 14 (Low): request signatures stayed valid for 7 days, so a request recorded on the line could be sent again
at will. Now the hub takes a signed request only within REQUEST_WINDOW_S of its own clock, and each one only once;
the edge signs with the hub's time as it knows it, so a box with a wrong clock still syncs.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from typing import Any

import aiohttp
import pytest

from edge.sync.hub_client import HubClient
from hub.request_replay import Replayed, SeenRequests, SignedBeforeStart, TooManyRequests
from protocol.feed import GENESIS, chain, feed_name, make_batch
from protocol.records import put
from protocol.request_auth import HEADER, REQUEST_WINDOW_S, sign_request

from .kit import HubKit


def _dump(kit: HubKit) -> list[Any]:
    with sqlite3.connect(kit.data_dir / "hub.db") as db:
        return [db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("villages", "up_heads", "up_entries", "submissions", "cases")]


async def test_the_same_signed_request_sent_twice_is_refused_the_second_time_and_changes_nothing(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    batch = edge.batch(edge.next_entries([edge.submission_op()]))
    path = "/api/v1/sync/v1/up"
    recorded = edge.signed("POST", path, batch)
    first = await kit.client.post(path, data=batch, headers=recorded)
    assert first.status == 200, await first.text()
    before = _dump(kit)
    again = await kit.client.post(path, data=batch, headers=recorded)
    assert again.status == 401 and (await again.json())["error"] == "replayed_request"
    assert _dump(kit) == before
    # The same request signed afresh is an ordinary, harmless retry.
    assert (await edge.push(batch))[0] == 200


@pytest.mark.parametrize("skew_s", [-3600, REQUEST_WINDOW_S + 30, 7 * 24 * 3600 - 60])
async def test_a_request_signed_too_far_from_the_hubs_clock_is_refused_with_the_hubs_time(
    kit: HubKit, skew_s: int
) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    path = "/api/v1/sync/v1/up"
    batch = edge.batch(edge.next_entries([edge.submission_op()]))
    old = {HEADER: sign_request(edge.key, "POST", path, batch, now=int(time.time()) - skew_s)}
    before = _dump(kit)
    resp = await kit.client.post(path, data=batch, headers=old)
    answer = await resp.json()
    assert resp.status == 401 and answer["error"] == "stale_request", answer
    assert abs(answer["hub_time"] - time.time()) < 5
    assert _dump(kit) == before


# Named ids: the 1970 case's value depends on the time of collection, and xdist's workers must collect the same names.
@pytest.mark.parametrize(
    "clock_off_s",
    [5 * 3600, -3 * 24 * 3600, -(time.time() - 1_000_000)],
    ids=["hours_ahead", "days_behind", "never_set_1970"],
)
async def test_a_box_whose_clock_is_off_still_syncs(kit: HubKit, clock_off_s: float) -> None:
    """Hours ahead, days behind, or never set (1970): the first request is refused as stale, signed again at the
    hub's time from its answer, and every later one is signed right away."""
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    entries = chain(feed_name("up", "v1"), 0, GENESIS, [put("submission", str(uuid.uuid4()), {
        "kind": "feedback", "device_id": "tv-1", "body": {"text": "路灯坏了"}, "created_at": "2026-10-01T00:00:00Z"})])
    async with aiohttp.ClientSession() as session:
        client = HubClient(session, str(kit.client.make_url("")), edge.key, "v1",
                           wall=lambda: time.time() + clock_off_s)
        pushed = await client.push_up(make_batch(edge.key, feed_name("up", "v1"), entries, 0, GENESIS))
        assert pushed.have == 1
        assert abs(client.clock_offset + clock_off_s) < 5
        assert (await client.up_position()).have == 1
        assert await client.pull_down(0, 64 * 1024, 0)
    assert await kit.hub.store.count_submissions() == 1


def test_the_memory_of_requests_is_bounded_and_forgets_what_its_window_has_passed() -> None:
    now = [1_800_000_000.0]
    seen = SeenRequests(clock=lambda: now[0], per_key=3, total=5)
    t = int(now[0])
    for n in range(3):
        seen.take(b"village-a", b"nonce-%d" % n, t)
    with pytest.raises(Replayed):
        seen.take(b"village-a", b"nonce-0", t)
    with pytest.raises(TooManyRequests):  # one busy (or compromised) box cannot crowd out the others
        seen.take(b"village-a", b"nonce-3", t)
    seen.take(b"village-b", b"nonce-0", t)
    seen.take(b"village-b", b"nonce-1", t)
    with pytest.raises(TooManyRequests):
        seen.take(b"village-c", b"nonce-0", t)
    assert len(seen) == 5
    now[0] += 2 * REQUEST_WINDOW_S  # by then each of them is refused as stale anyway
    seen.take(b"village-c", b"nonce-0", int(now[0]))
    assert len(seen) == 1


def test_a_request_signed_before_the_hub_started_is_refused_since_the_hub_cannot_know_it_was_taken() -> None:
    seen = SeenRequests(clock=lambda: 1_800_000_000.0)
    with pytest.raises(SignedBeforeStart):
        seen.take(b"village-a", b"nonce", 1_800_000_000 - 30)
    seen.take(b"village-a", b"nonce", 1_800_000_000)

"""Issue 14: votes at the hub are counted per household, as at the edge. The hub used to drop the household the
edge sends with each vote and recount per device, so a household with two TVs counted twice at the hub only.
"""

from __future__ import annotations

import uuid
from typing import Any

from protocol.records import put

from .kit import HubKit, TestEdge


def _vote(device: str, household: str | None, choice: int) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "vote", "device_id": device, "created_at": "2026-10-01T02:00:00Z",
                            "body": {"question_id": "q1", "choice": choice}}
    if household is not None:
        body["household_id"] = household
    return put("submission", str(uuid.uuid4()), body)


async def _send(edge: TestEdge, ops: list[dict[str, Any]]) -> None:
    status, answer = await edge.push(edge.batch(edge.next_entries(ops)))
    assert status == 200, answer


async def test_two_tvs_of_one_household_voting_count_once_at_the_hub_latest_vote_wins(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    house, other_house = str(uuid.uuid4()), str(uuid.uuid4())
    await _send(edge, [_vote("tv-living-room", house, 1), _vote("tv-bedroom", house, 2),
                       _vote("tv-next-door", other_house, 2)])
    # The edge's own final tally, as it counts (one vote per household, the last one).
    await _send(edge, [put("vote_tally", "q1", {"text": "修路吗？", "choices": ["同意", "不同意"],
                                                "counts": {"同意": 0, "不同意": 2}, "voters": 2,
                                                "cutoff_up_seq": 3})])
    resp = await kit.client.get("/api/v1/votes/v1/q1", headers=kit.admin)
    assert resp.status == 200, await resp.text()
    tally = await resp.json()
    assert tally["hub"] == {"counts": {"同意": 0, "不同意": 2}, "voters": 2}
    assert tally["agree"] is True


async def test_a_vote_with_a_malformed_household_refuses_the_batch_and_stores_nothing(kit: HubKit) -> None:
    await kit.add_village("v1")
    edge = await kit.enroll("v1")
    bad = _vote("tv-1", None, 1)
    bad["body"]["household_id"] = ["not", "a", "string"]
    status, answer = await edge.push(edge.batch(edge.next_entries([bad])))
    assert (status, answer["error"]) == (400, "malformed")
    assert await kit.hub.store.count_submissions() == 0

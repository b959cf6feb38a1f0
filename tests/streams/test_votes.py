"""Acceptance 4: fifty households vote by remote during a meeting; each counts once; the hub's tally equals the edge's."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from edge.streams import StreamRefused, close_vote, open_vote, schedule_meeting, tally
from tests.device_kit import pair_with_new_household, register_with

from .kit import eventually, viewers_session, village_with_hub

HOUSEHOLDS = 50
CHOICES = ["同意", "反对", "弃权"]


def vote(device: str, question_id: str, choice: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": "vote", "device_id": device,
            "body": {"question_id": question_id, "choice": choice}}


async def test_fifty_households_vote_once_each_and_the_hub_tally_equals_the_edge_tally(aiohttp_client: Any,
                                                                                         tmp_path: Path) -> None:
    # Fifty TVs registering from one address (127.0.0.1) here; fifty homes would in the village.
    village = await village_with_hub(aiohttp_client, tmp_path, device_registrations_per_hour=100)
    assert village.line is not None
    try:
        meeting = await schedule_meeting(village.streams, "村民代表大会", "修路方案表决")
        resp = await village.edge.get(f"/api/v1/streams/{meeting.id}/vote")
        assert (await resp.json())["question"] is None
        question = await open_vote(village.streams, meeting.id, "是否同意村道修缮方案？", CHOICES)
        shown = (await (await village.edge.get(f"/api/v1/streams/{meeting.id}/vote")).json())["question"]
        assert shown["id"] == question["id"] and shown["choices"] == CHOICES and shown["open"] is True

        # Household i picks CHOICES[i % 3] by number on the remote (1-based); every fifth presses twice,
        # changing its mind; every seventh sends the very same vote again (a retry). Each household's TV is
        # registered and paired first: votes count once per household.
        expected = {c: 0 for c in CHOICES}
        async with viewers_session() as session:

            async def household(i: int) -> None:
                device = f"stb-{i:03d}"
                tv = await register_with(session, device, url=f"{village.edge_url}/api/v1/devices")
                await pair_with_new_household(village.streams.db, tv.device_id, f"{device} 户")
                first = vote(device, question["id"], (i % 3) + 1)
                final_choice = CHOICES[i % 3]
                sends = [first]
                if i % 5 == 0:
                    final_choice = CHOICES[(i + 1) % 3]
                    sends.append(vote(device, question["id"], final_choice))
                if i % 7 == 0:
                    sends.append(first if len(sends) == 1 else sends[-1])
                expected[final_choice] += 1
                for sub in sends:
                    async with session.post(f"{village.edge_url}/api/v1/submissions", json=sub,
                                            headers=tv.headers) as resp:
                        assert resp.status in (200, 201), await resp.text()

            await asyncio.gather(*(household(i) for i in range(HOUSEHOLDS)))
        live = await tally(village.streams.db, question["id"])
        assert live["open"] is True and live["voters"] == HOUSEHOLDS and live["counts"] == expected

        final = await close_vote(village.streams, question["id"])
        assert final["open"] is False and final["counts"] == expected
        # A vote after the close changes nothing, here or at the hub.
        late = await register_with(village.edge, "stb-late")
        await pair_with_new_household(village.streams.db, late.device_id, "后来的一户")
        resp = await village.edge.post("/api/v1/submissions", json=vote("stb-late", question["id"], 1),
                                       headers=late.headers)
        assert resp.status == 201
        assert (await tally(village.streams.db, question["id"]))["counts"] == expected
        assert (await (await village.edge.get(f"/api/v1/streams/{meeting.id}/vote")).json())["question"] is None

        async def at_hub() -> Any:
            resp = await village.hub.client.get(f"/api/v1/votes/v1/{question['id']}", headers=village.hub.admin)
            if resp.status != 200:
                return None
            body = await resp.json()
            held = await village.hub.hub.store.count_submissions()
            return body if held >= HOUSEHOLDS + 1 else None

        hub_view = await eventually("the final tally and the votes at the hub", at_hub, timeout_s=30)
        assert hub_view["edge"]["counts"] == expected and hub_view["edge"]["voters"] == HOUSEHOLDS
        assert hub_view["hub"]["counts"] == hub_view["edge"]["counts"]
        assert hub_view["hub"]["voters"] == HOUSEHOLDS and hub_view["agree"] is True
    finally:
        await village.line.stop()


async def test_a_question_needs_two_to_nine_distinct_choices_and_one_open_at_a_time(aiohttp_client: Any,
                                                                                   tmp_path: Path) -> None:
    village = await village_with_hub(aiohttp_client, tmp_path, line_up=False)
    assert village.line is not None
    try:
        for text, choices in (("", CHOICES), ("问题", ["只有一个"]), ("问题", ["同意", "同意"]),
                              ("问题", [str(i) for i in range(10)])):
            with pytest.raises(StreamRefused) as refused:
                await open_vote(village.streams, "mtg-x", text, choices)
            assert refused.value.status == 422 and refused.value.detail
        await open_vote(village.streams, "mtg-x", "问题一", CHOICES)
        with pytest.raises(StreamRefused) as refused:
            await open_vote(village.streams, "mtg-x", "问题二", CHOICES)
        assert refused.value.status == 409
    finally:
        await village.line.stop()

"""Acceptance 3: a handler returns a case with a reason, it goes back to the dispatcher with the reason in its
history, and the dispatcher reassigns it; the village's own answer and its 转交镇街 move the case too.
"""

from __future__ import annotations

import uuid

from .case_kit import case_world, ops_of_kind
from .kit import HubKit


async def test_a_returned_case_goes_back_to_the_dispatcher_with_the_reason_and_is_reassigned(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    case = await world.case_of(await world.submit("consultation", {"text": "路灯坏了", "category": "市政"}),
                               world.handler)

    returned = await world.act(case["id"], "return", world.handler, {"reason": "路灯归城管办管"})
    assert (returned["state"], returned["unit"]) == ("new", None)
    assert returned["history"][-1] == {**returned["history"][-1], "action": "return", "user": "mz-handler"}
    assert "路灯归城管办管" in returned["history"][-1]["detail"]
    # Back with the town's dispatcher, gone from the unit's worklist.
    assert [c["id"] for c in (await (await kit.client.get("/api/v1/cases?state=new",
                                                           headers=world.town_dispatcher)).json())["cases"]] \
        == [case["id"]]
    assert (await (await kit.client.get("/api/v1/cases", headers=world.handler)).json())["cases"] == []
    assert (await world.act(case["id"], "accept", world.handler, status=403))["error"] == "out_of_scope"

    reassigned = await world.act(case["id"], "assign", world.town_dispatcher, {"unit": "east-cg"})
    assert (reassigned["state"], reassigned["unit"], reassigned["unit_name"]) == ("assigned", "east-cg",
                                                                                  "城关镇城管办")
    assert reassigned["due_at"] == case["due_at"]  # the clock does not stop while a case is bounced
    assert [e["action"] for e in reassigned["history"]] == ["open", "return", "assign"]
    # A town dispatcher assigns within its town only.
    refused = await world.act(case["id"], "assign", world.town_dispatcher, {"unit": "mzj"}, status=403)
    assert refused["error"] == "out_of_scope"
    moved = await world.act(case["id"], "assign", world.city_dispatcher, {"unit": "mzj"})
    assert moved["unit"] == "mzj" and moved["history"][-1]["action"] == "reassign"


async def test_a_village_local_reply_answers_the_case_with_the_village_as_handling_unit(kit: HubKit) -> None:
    world = await case_world(kit)
    sub_id = await world.submit("feedback", {"text": "垃圾没人收", "choice": 1})
    await world.send_record("local_reply", str(uuid.uuid4()),
                            {"submission_id": sub_id, "text": "村里已安排清运。", "by": "村委会", "at": "2026-12-07T02:00:00Z"})
    case = await world.case_of(sub_id)
    assert (case["state"], case["handled_by"]) == ("answered", "village:e1")
    assert case["history"][-1]["action"] == "local_reply"
    await world.rate(sub_id, 4)
    assert (await world.read(case["id"]))["state"] == "closed"


async def test_a_village_handover_gives_the_case_to_the_town(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("incident", "east-mz", 1)
    sub_id = await world.submit("incident", {"category": "道路"})
    handover = {"submission_id": sub_id, "by": "村委会", "note": "需要镇里协调", "at": "2026-12-07T02:00:00Z"}
    await world.send_record("submission_handover", f"handover-{sub_id}", handover)
    case = await world.case_of(sub_id, world.town_dispatcher)
    assert (case["state"], case["unit"], case["town_id"]) == ("new", None, "east")
    assert "需要镇里协调" in case["history"][-1]["detail"]
    labels = [op["body"]["label"] for op in ops_of_kind(await kit.down_ops("e1"), "case_status")]
    assert labels == ["已受理", "已受理"]

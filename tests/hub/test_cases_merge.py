"""Merging duplicate cases: the same broken street light reported from two villages is one matter; the town's
dispatcher merges the second report into the first, and the answer reaches both residents' TVs through each
village's down feed. Refusals (into itself, across scopes, into a closed or merged case, by a handler) change
nothing, and a case that has duplicates takes them along when it is merged in turn.
"""

from __future__ import annotations

import uuid
from typing import Any

from .case_kit import CaseWorld, case_world, ops_of_kind
from .kit import HubKit, TestEdge

LAMP = {"category": "道路", "text": "路灯坏了"}


async def _submit_from(world: CaseWorld, edge: TestEdge, body: dict[str, Any]) -> str:
    """A resident's incident report sent up by another village's edge; returns the submission id."""
    sub_id = str(uuid.uuid4())
    status, answer = await edge.push(edge.batch(edge.next_entries([world.op("incident", body, sub_id)])))
    assert status == 200, answer
    return sub_id


async def _tv_of(kit: HubKit, village: str, sub_id: str) -> tuple[str | None, list[str]]:
    """What a village's TV learns about one submission from its down feed: the last state label, and the replies."""
    ops = await kit.down_ops(village)
    labels = [op["body"]["label"] for op in ops_of_kind(ops, "case_status") if op["id"] == sub_id]
    replies = [op["body"]["text"] for op in ops_of_kind(ops, "reply") if op["body"]["submission_id"] == sub_id]
    return (labels[-1] if labels else None), replies


async def _snapshot(world: CaseWorld, *case_ids: str) -> list[tuple[str, int, Any]]:
    cases = [await world.read(c) for c in case_ids]
    return [(c["state"], len(c["history"]), c["merged_into"]) for c in cases]


async def test_a_duplicate_from_another_village_is_merged_and_its_resident_gets_the_same_reply(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("incident", "east-mz", 1)
    first_sub = await world.submit("incident", LAMP)
    second_edge = await kit.enroll("e2")
    second_sub = await _submit_from(world, second_edge, {**LAMP, "text": "村口路灯不亮"})
    first, second = await world.case_of(first_sub), await world.case_of(second_sub)

    merged = await world.act(second["id"], "merge", world.town_dispatcher, {"into": first["id"]})
    assert (merged["state"], merged["merged_into"]) == ("closed", first["id"])
    assert merged["history"][-1]["action"] == "merge" and first["id"] in merged["history"][-1]["detail"]
    root = await world.read(first["id"])
    assert root["duplicates"] == [second["id"]] and root["state"] == "assigned"
    assert root["history"][-1]["action"] == "merge_in" and second["id"] in root["history"][-1]["detail"]
    # The second resident's TV follows the first case: received, not "closed" without an answer.
    assert await _tv_of(kit, "e2", second_sub) == ("已受理", [])
    again = await world.act(second["id"], "merge", world.town_dispatcher, {"into": first["id"]})
    assert len(again["history"]) == len(merged["history"])  # a replay records nothing twice

    await world.act(first["id"], "accept", world.handler)
    assert (await _tv_of(kit, "e2", second_sub))[0] == "办理中"
    await world.act(first["id"], "reply", world.handler, {"text": "已派人更换灯泡，今晚恢复照明。"})
    assert await _tv_of(kit, "e1", first_sub) == ("已答复", ["已派人更换灯泡，今晚恢复照明。"])
    assert await _tv_of(kit, "e2", second_sub) == ("已答复", ["已派人更换灯泡，今晚恢复照明。"])
    reply_ops = ops_of_kind(await kit.down_ops("e2"), "reply")
    assert reply_ops[-1]["body"]["by"] == "城关镇民政办"
    assert (await world.read(second["id"]))["history"][-1]["action"] == "merged_reply"

    await world.rate(first_sub, 5)
    assert (await _tv_of(kit, "e2", second_sub))[0] == "已办结"


async def test_a_village_local_reply_to_the_case_reaches_its_duplicates_resident_too(kit: HubKit) -> None:
    world = await case_world(kit)
    first_sub = await world.submit("incident", LAMP)
    second_sub = await world.submit("incident", LAMP)
    first, second = await world.case_of(first_sub), await world.case_of(second_sub)
    await world.act(second["id"], "merge", world.city_dispatcher, {"into": first["id"]})
    await world.send_record("local_reply", str(uuid.uuid4()),
                            {"submission_id": first_sub, "text": "村里已报修。", "by": "村委会",
                             "at": "2026-12-07T02:00:00Z"})
    assert await _tv_of(kit, "e1", second_sub) == ("已答复", ["村里已报修。"])
    assert ops_of_kind(await kit.down_ops("e1"), "reply")[-1]["body"]["by"] == "东庄村"


async def test_merging_refuses_itself_other_scopes_closed_or_merged_targets_and_handlers_and_changes_nothing(
        kit: HubKit) -> None:
    world = await case_world(kit)
    a, b, c, closed = [await world.case_of(await world.submit("incident", LAMP)) for _ in range(4)]
    west_edge = await kit.enroll("w1")
    west = await world.case_of(await _submit_from(world, west_edge, LAMP))
    await world.act(closed["id"], "close", world.town_dispatcher, {"reason": "已处理"})
    await world.act(c["id"], "merge", world.town_dispatcher, {"into": a["id"]})
    ids = (a["id"], b["id"], c["id"], closed["id"], west["id"])
    before = await _snapshot(world, *ids)
    e2_before = await kit.down_ops("e1")

    refusals = [
        (b["id"], {"into": b["id"]}, world.town_dispatcher, 422, "merge_into_itself"),
        (b["id"], {"into": west["id"]}, world.town_dispatcher, 403, "out_of_scope"),  # 河西镇's case
        (west["id"], {"into": b["id"]}, world.town_dispatcher, 403, "out_of_scope"),
        (b["id"], {"into": closed["id"]}, world.town_dispatcher, 409, "merge_target_closed"),
        (b["id"], {"into": c["id"]}, world.town_dispatcher, 409, "merge_target_closed"),  # c is merged itself
        (c["id"], {"into": b["id"]}, world.town_dispatcher, 409, "already_merged"),
        (closed["id"], {"into": b["id"]}, world.town_dispatcher, 409, "wrong_state"),
        (b["id"], {"into": a["id"]}, world.handler, 403, "forbidden"),
        (b["id"], {"into": str(uuid.uuid4())}, world.town_dispatcher, 422, "unknown_case"),
        (b["id"], {"into": "not-a-case"}, world.town_dispatcher, 400, "bad_id"),
        (b["id"], {}, world.town_dispatcher, 400, "bad_id"),
    ]
    for case_id, body, who, status, error in refusals:
        answer = await world.act(case_id, "merge", who, body, status=status)
        assert answer["error"] == error, (body, answer)
    assert await _snapshot(world, *ids) == before
    assert await kit.down_ops("e1") == e2_before


async def test_a_case_with_duplicates_merged_into_another_takes_them_along_and_both_residents_get_the_reply(
        kit: HubKit) -> None:
    world = await case_world(kit)
    subs = [await world.submit("incident", LAMP) for _ in range(3)]
    first, second, third = [await world.case_of(s) for s in subs]
    await world.act(third["id"], "merge", world.town_dispatcher, {"into": second["id"]})
    await world.act(second["id"], "merge", world.town_dispatcher, {"into": first["id"]})

    assert (await world.read(third["id"]))["merged_into"] == first["id"]  # the chain resolves to its root
    assert (await world.read(first["id"]))["duplicates"] == [second["id"], third["id"]]
    assert (await world.read(second["id"]))["duplicates"] == []
    await world.act(first["id"], "assign", world.town_dispatcher, {"unit": "east-mz"})
    await world.act(first["id"], "accept", world.handler)
    await world.act(first["id"], "reply", world.handler, {"text": "已修好。"})
    for sub_id in subs:
        assert await _tv_of(kit, "e1", sub_id) == ("已答复", ["已修好。"])

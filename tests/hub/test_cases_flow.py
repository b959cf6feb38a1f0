"""Acceptance 1: a consultation from a TV becomes one routed case with its due date on the right working day; the
handler signs for it and replies; the TV learns 已答复 with the reply; a rating of 5 closes it, of 2 reopens it once.
"""

from __future__ import annotations

import asyncio
import time

from .case_kit import case_world, end_of_day_utc, ops_of_kind, shanghai
from .kit import HubKit


async def test_a_consultation_in_the_national_day_week_is_routed_and_due_on_the_third_working_day(
        kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    # Wednesday 30 September 2026; 1-7 October are holidays and Saturday 10 October is worked in lieu.
    kit.hub.store.clock = lambda: shanghai(2026, 9, 30)
    sub_id = await world.submit("consultation", {"text": "低保怎么申请？", "category": "社会救助"})

    case = await world.case_of(sub_id, world.handler)
    assert (case["state"], case["unit"], case["village_id"], case["kind"]) == ("assigned", "east-mz", "e1",
                                                                                 "consultation")
    assert case["accept_by"] == end_of_day_utc(2026, 10, 8)  # the first working day after the holiday
    assert case["due_at"] == end_of_day_utc(2026, 10, 10)  # 8th, 9th, and the Saturday worked in lieu
    assert case["calendar_fallback"] is False and case["overdue"] is False
    assert [e["action"] for e in case["history"]] == ["open"]


async def test_without_a_rule_a_case_waits_for_its_town_dispatcher(kit: HubKit) -> None:
    world = await case_world(kit)
    kit.hub.store.clock = lambda: shanghai(2026, 9, 25)  # Mid-autumn Festival: Friday to Sunday off
    sub_id = await world.submit("service_request", {"service": "养老助老：上门探访"})

    case = await world.case_of(sub_id, world.town_dispatcher)
    assert (case["state"], case["unit"], case["town_id"]) == ("new", None, "east")
    assert case["category"] == "养老助老：上门探访" and case["text"] == "养老助老：上门探访"
    assert case["due_at"] == end_of_day_utc(2026, 9, 30)  # 3 working days: Monday 28th to Wednesday 30th
    resp = await kit.client.get("/api/v1/cases", headers=world.handler)
    assert (await resp.json())["cases"] == []  # not at the handler's unit yet


async def test_an_elderly_care_rule_by_the_beginning_of_the_category_routes_care_requests(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("service_request", "mzj", 2, category="养老助老")
    sub_id = await world.submit("service_request", {"service": "养老助老：助餐送餐"})
    case = await world.case_of(sub_id)
    assert (case["state"], case["unit"], case["time_limit_days"]) == ("assigned", "mzj", 2)


async def test_the_handler_accepts_and_replies_and_the_tv_learns_it_within_seconds(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    sub_id = await world.submit()
    case = await world.case_of(sub_id, world.handler)
    status_ops = ops_of_kind(await kit.down_ops("e1"), "case_status")
    assert [op["body"]["label"] for op in status_ops] == ["已受理"]
    assert status_ops[0]["id"] == sub_id and status_ops[0]["body"]["due_date"] is not None

    accepted = await world.act(case["id"], "accept", world.handler)
    assert accepted["state"] == "in_progress"
    head = (await world.edge.get_down()).head_seq

    started = time.monotonic()
    poll = asyncio.create_task(world.edge.get_down(after=head, wait=10))
    await asyncio.sleep(0.2)
    answered = await world.act(case["id"], "reply", world.handler, {"text": "请带身份证到镇民政办申请。"})
    batch = await poll
    took = time.monotonic() - started
    assert answered["state"] == "answered" and answered["handled_by"] == "unit:east-mz"
    kinds = {e.op["kind"]: e.op["body"] for e in batch.entries}
    assert kinds["reply"]["text"] == "请带身份证到镇民政办申请。" and kinds["reply"]["by"] == "城关镇民政办"
    assert kinds["reply"]["submission_id"] == sub_id
    assert (kinds["case_status"]["label"], kinds["case_status"]["state"]) == ("已答复", "answered")
    assert took < 10, f"the reply took {took:.1f} s to reach the village"

    await world.rate(sub_id, 5)
    closed = await world.read(case["id"])
    assert (closed["state"], closed["rating"]) == ("closed", 5)
    last = ops_of_kind(await kit.down_ops("e1"), "case_status")[-1]["body"]
    assert last["label"] == "已办结"
    actions = [e["action"] for e in closed["history"]]
    assert actions == ["open", "accept", "reply", "close"]


async def test_a_rating_of_2_reopens_the_case_once_to_the_same_unit(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    sub_id = await world.submit()
    case = await world.case_of(sub_id, world.handler)
    await world.act(case["id"], "accept", world.handler)
    await world.act(case["id"], "reply", world.handler, {"text": "已答复。"})

    await world.rate(sub_id, 2)
    reopened = await world.read(case["id"])
    assert (reopened["state"], reopened["unit"], reopened["reopened"]) == ("in_progress", "east-mz", True)
    assert ops_of_kind(await kit.down_ops("e1"), "case_status")[-1]["body"]["label"] == "办理中"

    await world.act(case["id"], "reply", world.handler, {"text": "已重新核实并答复。"})
    await world.rate(sub_id, 1)
    final = await world.read(case["id"])
    assert (final["state"], final["rating"]) == ("closed", 1)  # 重办 happens once only
    assert [e["action"] for e in final["history"]] == ["open", "accept", "reply", "reopen", "reply", "close"]


async def test_every_step_of_a_case_is_in_the_audit_log(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    sub_id = await world.submit()
    case = await world.case_of(sub_id, world.handler)
    await world.act(case["id"], "accept", world.handler)
    entries = (await (await kit.client.get("/api/v1/audit", headers=kit.admin)).json())["entries"]
    mine = [(e["user"], e["action"]) for e in entries if e["target"] == f"case:{case['id']}"]
    assert mine == [("village:e1", "case_open"), ("mz-handler", "case_accept")]

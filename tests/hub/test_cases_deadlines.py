"""Acceptance 2: cases not signed for in time, or past their due date, are marked overdue and escalated to the
city's dispatchers; an answered case nobody rates closes after 7 days; a handler asks for more time and a
dispatcher above grants it; a handler outside the case's unit cannot act on it.
"""

from __future__ import annotations

from typing import Any

from hub.case_deadlines import sweep

from .case_kit import CaseWorld, case_world, end_of_day_utc, shanghai
from .kit import HubKit
from .official_kit import official


async def _routed_case(world: CaseWorld) -> dict[str, Any]:
    await world.route("consultation", "east-mz", 3)
    # Monday 2 November 2026, an ordinary week: sign by the 3rd, answer by the 5th.
    world.kit.hub.store.clock = lambda: shanghai(2026, 11, 2)
    return await world.case_of(await world.submit(), world.handler)


async def _overdue_for(world: CaseWorld, headers: dict[str, str]) -> list[str]:
    resp = await world.kit.client.get("/api/v1/cases?overdue=true", headers=headers)
    assert resp.status == 200, await resp.text()
    return [c["id"] for c in (await resp.json())["cases"]]


async def test_a_case_not_signed_for_in_time_is_overdue_and_escalated_to_the_city(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await _routed_case(world)
    assert case["accept_by"] == end_of_day_utc(2026, 11, 3)

    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 3, 23))).overdue == 0
    assert await _overdue_for(world, world.city_dispatcher) == []

    swept = await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 4, 9))
    assert swept.overdue == 1
    assert await _overdue_for(world, world.city_dispatcher) == [case["id"]]
    seen = await world.read(case["id"])
    assert (seen["overdue"], seen["escalated_to"], seen["state"]) == (True, "city", "assigned")
    assert [e["action"] for e in seen["history"]] == ["open", "overdue", "escalate"]
    assert "not signed for" in seen["history"][1]["detail"]
    # A second pass changes nothing.
    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 4, 10))).overdue == 0


async def test_a_case_past_its_due_date_is_overdue_for_the_city_dispatcher(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await _routed_case(world)
    await world.act(case["id"], "accept", world.handler)
    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 5, 23))).overdue == 0
    await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 6, 9))
    assert await _overdue_for(world, world.city_dispatcher) == [case["id"]]
    assert await _overdue_for(world, world.town_dispatcher) == [case["id"]]
    assert "not answered by" in (await world.read(case["id"]))["history"][-2]["detail"]


async def test_a_case_left_with_its_town_dispatcher_past_its_due_date_escalates_to_the_city(kit: HubKit) -> None:
    world = await case_world(kit)
    # No routing rule: the consultation waits for the town's dispatchers, due in 3 working days (Thursday the 5th).
    world.kit.hub.store.clock = lambda: shanghai(2026, 11, 2)
    case = await world.case_of(await world.submit(), world.town_dispatcher)
    assert case["state"] == "new"
    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 5, 23))).overdue == 0
    await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 6, 9))
    assert await _overdue_for(world, world.city_dispatcher) == [case["id"]]
    seen = await world.read(case["id"])
    assert (seen["overdue"], seen["escalated_to"], seen["state"]) == (True, "city", "new")
    assert "not answered by" in seen["history"][-2]["detail"]


async def test_a_handler_outside_the_unit_gets_403_and_nothing_changes(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await _routed_case(world)
    before, sent = await world.read(case["id"]), await kit.down_ops("e1")
    for action, body in (("accept", {}), ("reply", {"text": "不是我们的事"}), ("return", {"reason": "不归我们"}),
                         ("extend", {"working_days": 3, "reason": "忙"})):
        refused = await world.act(case["id"], action, world.west_handler, body, status=403)
        assert refused["error"] == "out_of_scope"
    refused = await world.act(case["id"], "accept", world.town_dispatcher, status=403)
    assert refused["error"] == "forbidden"  # a dispatcher is not the unit's handler
    resp = await kit.client.get(f"/api/v1/cases/{case['id']}", headers=world.west_handler)
    assert resp.status == 403
    assert await world.read(case["id"]) == before
    assert await kit.down_ops("e1") == sent


async def test_an_answered_case_nobody_rates_closes_after_7_days(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await _routed_case(world)
    await world.act(case["id"], "accept", world.handler)
    await world.act(case["id"], "reply", world.handler, {"text": "已办理。"})
    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 8))).closed == 0
    assert (await sweep(kit.hub.store, kit.hub.down, shanghai(2026, 11, 9, 11))).closed == 1
    closed = await world.read(case["id"])
    assert (closed["state"], closed["rating"]) == ("closed", None)
    assert closed["history"][-1]["action"] == "auto_close"


async def test_an_extension_asked_by_the_handler_is_granted_by_the_town_dispatcher(kit: HubKit) -> None:
    world = await case_world(kit)
    case = await _routed_case(world)
    await world.act(case["id"], "accept", world.handler)
    asked = await world.act(case["id"], "extend", world.handler, {"working_days": 5, "reason": "需要上门核实"})
    assert asked["extension_request"]["working_days"] == 5 and asked["due_at"] == end_of_day_utc(2026, 11, 5)
    # The handler cannot grant its own request; its dispatcher above can.
    again = await world.act(case["id"], "extend", world.handler, {"working_days": 5, "reason": "需要上门核实"})
    assert again["due_at"] == end_of_day_utc(2026, 11, 5)
    granted = await world.act(case["id"], "extend", world.town_dispatcher, {"grant": True})
    assert granted["extension_request"] is None
    assert granted["due_at"] == end_of_day_utc(2026, 11, 12)  # five working days after Thursday the 5th
    assert [e["action"] for e in granted["history"]][-2:] == ["extend_request", "extend_grant"]


async def test_a_dispatcher_of_another_town_cannot_see_or_move_the_case(kit: HubKit) -> None:
    world = await case_world(kit)
    west = await official(kit, "west-disp", "dispatcher", "town:west")
    case = await _routed_case(world)
    assert (await world.act(case["id"], "close", west, status=403))["error"] == "out_of_scope"
    assert (await world.act(case["id"], "assign", west, {"unit": "west-pcs"}, status=403))["error"] == "out_of_scope"
    resp = await kit.client.get("/api/v1/cases", headers=west)
    assert (await resp.json())["cases"] == []
    assert (await world.read(case["id"]))["state"] == "assigned"

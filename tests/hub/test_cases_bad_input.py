"""Bad input on the case and routing routes is a 4xx with a sentence, and changes nothing."""

from __future__ import annotations

from .case_kit import case_world
from .kit import HubKit
from .official_kit import official


async def test_bad_requests_on_a_case_are_refused_and_change_nothing(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    case = await world.case_of(await world.submit(), world.handler)
    before = await world.read(case["id"])
    client = kit.client
    for path, body, status, code in (
        ("assign", {"unit": "no such/unit"}, 400, "bad_id"),
        ("assign", {}, 400, "bad_id"),
        ("assign", {"unit": "ghost"}, 422, "unknown_unit"),
        ("return", {}, 400, "missing_field"),
        ("return", {"reason": ""}, 400, "bad_length"),
        ("extend", {"working_days": "3", "reason": "忙"}, 422, "bad_days"),
        ("extend", {"working_days": 0, "reason": "忙"}, 422, "bad_days"),
    ):
        headers = world.city_dispatcher if path == "assign" else world.handler
        resp = await client.post(f"/api/v1/cases/{case['id']}/{path}", json=body, headers=headers)
        answer = await resp.json()
        assert (resp.status, answer["error"]) == (status, code), (path, body, answer)
        assert answer["detail"]
    resp = await client.post(f"/api/v1/cases/{case['id']}/reply", data=b"[1, 2]", headers=world.handler)
    assert (resp.status, (await resp.json())["error"]) == (400, "not_json")
    resp = await client.post(f"/api/v1/cases/{case['id']}/reply", json={"text": "好"}, headers=world.handler)
    assert (resp.status, (await resp.json())["error"]) == (409, "not_accepted")
    assert await world.read(case["id"]) == before
    resp = await client.post("/api/v1/cases/nope/accept", headers=world.handler)
    assert (resp.status, (await resp.json())["error"]) == (404, "unknown_case")


async def test_bad_list_queries_and_callers_without_a_case_role_are_refused(kit: HubKit) -> None:
    world = await case_world(kit)
    editor = await official(kit, "ed", "editor", "city")
    for query in ("state=lost", "overdue=maybe", "limit=0", "village=../x", "cursor=abc"):
        resp = await kit.client.get(f"/api/v1/cases?{query}", headers=world.city_dispatcher)
        assert resp.status == 400, query
    assert (await kit.client.get("/api/v1/cases")).status == 401
    resp = await kit.client.get("/api/v1/cases", headers=editor)
    assert (resp.status, (await resp.json())["error"]) == (403, "forbidden")


async def test_routing_rules_are_set_by_the_city_only_and_checked(kit: HubKit) -> None:
    world = await case_world(kit)
    for body, status, code in (({"kind": "vote", "unit": "mzj", "days": 1}, 400, "unknown_kind"),
                               ({"kind": "incident", "unit": "mzj", "days": -1}, 400, "bad_days"),
                               ({"kind": "incident", "unit": "mzj", "days": True}, 400, "bad_days"),
                               ({"kind": "incident", "unit": "ghost", "days": 1}, 422, "unknown_unit")):
        resp = await kit.client.post("/api/v1/routes", json=body, headers=world.city_dispatcher)
        assert (resp.status, (await resp.json())["error"]) == (status, code), body
    resp = await kit.client.post("/api/v1/routes", json={"kind": "incident", "unit": "east-mz", "days": 1},
                                 headers=world.town_dispatcher)
    assert (resp.status, (await resp.json())["error"]) == (403, "out_of_scope")
    assert (await (await kit.client.get("/api/v1/routes", headers=world.city_dispatcher)).json())["routes"] == []

    resp = await kit.client.post("/api/v1/routes", json={"kind": "incident", "unit": "east-mz", "days": 1},
                                 headers=world.city_dispatcher)
    assert resp.status == 201
    listed = (await (await kit.client.get("/api/v1/routes", headers=world.handler)).json())["routes"]
    assert listed == [{"kind": "incident", "category": None, "unit": "east-mz", "unit_name": "城关镇民政办",
                       "days": 1}]
    resp = await kit.client.delete("/api/v1/routes?kind=incident", headers=world.city_dispatcher)
    assert (await resp.json())["removed"] is True

"""Acceptance 6: Open311 GeoReport v2 over the cases: services.json is the routing catalogue, requests.json the
cases with their status, and a city system files a case with its API key.
"""

from __future__ import annotations

from hub.actors import CLI
from hub.open311 import add_key

from .case_kit import case_world
from .kit import HubKit


async def test_services_json_lists_the_routing_catalogue(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("service_request", "mzj", 2, category="养老助老")
    await world.route("consultation", "east-mz", 3)
    resp = await kit.client.get("/open311/v2/services.json")
    assert resp.status == 200
    services = {s["service_code"]: s for s in await resp.json()}
    assert set(services) == {"feedback", "consultation", "service_request", "incident", "service_request:养老助老"}
    care = services["service_request:养老助老"]
    assert (care["service_name"], care["group"], care["metadata"]) == ("养老助老", "办事申请", False)
    assert "民政局" in care["description"] and "2个工作日" in care["description"]


async def test_requests_json_lists_the_cases_with_their_status(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    key = await add_key(kit.hub.store, CLI, "12345热线")
    open_id = await world.submit("consultation", {"text": "医保怎么报销？", "category": "医疗"})
    done_id = await world.submit("feedback", {"text": "路面坑洼", "choice": 1})
    done = await world.case_of(done_id)
    await world.act(done["id"], "close", world.town_dispatcher, {"reason": "已修复"})

    assert (await kit.client.get("/open311/v2/requests.json")).status == 403
    assert (await kit.client.get("/open311/v2/requests.json?api_key=wrong")).status == 403
    resp = await kit.client.get(f"/open311/v2/requests.json?api_key={key}")
    assert resp.status == 200
    listed = {r["service_request_id"]: r for r in await resp.json()}
    opened = (await world.case_of(open_id))["id"]
    assert listed[opened]["status"] == "open" and listed[opened]["status_notes"] == "待签收"
    assert listed[opened]["service_code"] == "consultation:医疗"
    assert listed[opened]["agency_responsible"] == "城关镇民政办" and listed[opened]["address"] == "东庄村"
    assert listed[opened]["description"] == "医疗 / 医保怎么报销？"
    assert listed[done["id"]]["status"] == "closed"

    closed_only = await (await kit.client.get(f"/open311/v2/requests.json?api_key={key}&status=closed")).json()
    assert [r["service_request_id"] for r in closed_only] == [done["id"]]
    one = await (await kit.client.get(f"/open311/v2/requests/{opened}.json?api_key={key}")).json()
    assert [r["service_request_id"] for r in one] == [opened]
    assert (await kit.client.get(f"/open311/v2/requests/nope.json?api_key={key}")).status == 404


async def test_a_city_system_files_a_case_with_its_api_key(kit: HubKit) -> None:
    world = await case_world(kit)
    await world.route("service_request", "mzj", 2, category="养老助老")
    key = await add_key(kit.hub.store, CLI, "12345热线")
    form = {"api_key": key, "service_code": "service_request:养老助老", "description": "独居老人需要助餐"}
    resp = await kit.client.post("/open311/v2/requests.json", data=form)
    assert resp.status == 201, await resp.text()
    (filed,) = await resp.json()
    case = await world.read(filed["service_request_id"], world.city_handler)
    assert (case["source"], case["state"], case["unit"], case["village_id"]) == ("open311", "assigned", "mzj", None)
    assert case["history"][0]["user"] == "open311:12345热线"

    into_village = {"api_key": key, "service_code": "incident", "description": "桥面开裂", "address_id": "e2"}
    resp = await kit.client.post("/open311/v2/requests.json", data=into_village)
    (filed,) = await resp.json()
    case = await world.read(filed["service_request_id"], world.town_dispatcher)
    assert (case["state"], case["village_id"], case["town_id"]) == ("new", "e2", "east")

    refused = await kit.client.post("/open311/v2/requests.json", data={**form, "api_key": "nope"})
    assert refused.status == 403
    bad = await kit.client.post("/open311/v2/requests.json", data={**form, "service_code": "parking"})
    assert bad.status == 422 and (await bad.json())["error"] == "unknown_service"

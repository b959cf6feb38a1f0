"""An official finds a case by what a caller has at hand: the case number read out on the phone, or the resident's
words; always inside the official's own scope (the worklist's 编号或内容 box and `GET /api/v1/cases?q=`)."""

from __future__ import annotations

from typing import Any

from protocol.records import put

from .case_kit import CaseWorld, case_world, shanghai
from .kit import HubKit


async def _found(world: CaseWorld, q: str, headers: dict[str, str], **more: str) -> set[str]:
    resp = await world.kit.client.get("/api/v1/cases", params={"q": q, **more}, headers=headers)
    assert resp.status == 200, await resp.text()
    return {c["id"] for c in (await resp.json())["cases"]}


async def _three_cases(world: CaseWorld) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Three incidents from 东庄村 on Monday 2 November 2026: a street light, the water, a leak at house 5."""
    world.kit.hub.store.clock = lambda: shanghai(2026, 11, 2)
    lamp = await world.case_of(await world.submit("incident", {"category": "道路照明", "text": "村口的路灯坏了"}))
    water = await world.case_of(await world.submit("incident", {"category": "供水", "text": "停水三天了"}))
    leak = await world.case_of(await world.submit("incident", {"category": "供水", "text": "5号楼的水管漏水"}))
    return lamp, water, leak


async def test_a_whole_case_number_finds_that_case_only_and_a_wrong_day_finds_nothing(kit: HubKit) -> None:
    world = await case_world(kit)
    lamp, water, _leak = await _three_cases(world)
    assert lamp["number"].startswith("20261102-") and len(lamp["number"]) == len("20261102-00001")

    assert await _found(world, lamp["number"], world.town_dispatcher) == {lamp["id"]}
    assert await _found(world, f" {water['number']} ", world.town_dispatcher) == {water["id"]}  # spaces around
    running = lamp["number"].split("-")[1]
    assert await _found(world, "20261103-" + running, world.town_dispatcher) == set()  # another day's number
    assert await _found(world, "20261399-" + running, world.town_dispatcher) == set()  # no such day


async def test_the_running_number_alone_finds_the_case_and_any_whose_words_hold_those_digits(kit: HubKit) -> None:
    world = await case_world(kit)
    lamp, water, leak = await _three_cases(world)
    assert await _found(world, water["number"].split("-")[1], world.town_dispatcher) == {water["id"]}  # 00002
    assert await _found(world, str(int(lamp["number"].split("-")[1])), world.town_dispatcher) == {lamp["id"]}
    assert leak["id"] in await _found(world, "5", world.town_dispatcher)  # 5号楼: a house number in the words


async def test_words_are_found_as_typed_with_no_wildcards_and_combine_with_the_other_filters(kit: HubKit) -> None:
    world = await case_world(kit)
    lamp, water, leak = await _three_cases(world)
    assert await _found(world, "路灯", world.town_dispatcher) == {lamp["id"]}
    assert await _found(world, "水", world.town_dispatcher) == {water["id"], leak["id"]}
    assert await _found(world, "%", world.town_dispatcher) == set()
    assert await _found(world, "_", world.town_dispatcher) == set()
    await world.act(water["id"], "assign", world.town_dispatcher, {"unit": "east-cg"})
    assert await _found(world, "水", world.town_dispatcher, state="assigned") == {water["id"]}


async def test_a_search_stays_inside_the_officials_scope(kit: HubKit) -> None:
    world = await case_world(kit)
    lamp, _water, _leak = await _three_cases(world)
    west = await kit.enroll("w1")  # 西庄村 in 河西镇 reports a street light too
    op = put("submission", "0b6f0c1e-2d4e-4f55-9a51-0a1b2c3d4e5f",
             {"kind": "incident", "device_id": "stb-9", "body": {"category": "道路照明", "text": "西庄村的路灯坏了"},
              "created_at": "2026-11-02T02:00:00Z"})
    status, answer = await west.push(west.batch(west.next_entries([op])))
    assert status == 200, answer

    assert await _found(world, "路灯", world.town_dispatcher) == {lamp["id"]}  # 城关镇's dispatcher: its own only
    both = await _found(world, "路灯", world.city_dispatcher)
    assert lamp["id"] in both and len(both) == 2
    west_case = (both - {lamp["id"]}).pop()
    west_number = (await world.read(west_case))["number"]
    assert await _found(world, west_number, world.town_dispatcher) == set()  # nor by its number
    assert await _found(world, "路灯", world.west_handler) == set()  # not at 河西派出所: no rule sent it there


async def test_a_search_longer_than_fifty_characters_is_refused_with_a_sentence(kit: HubKit) -> None:
    world = await case_world(kit)
    resp = await kit.client.get("/api/v1/cases", params={"q": "路" * 51}, headers=world.town_dispatcher)
    assert resp.status == 400
    assert "50" in (await resp.json())["detail"]
    page = await kit.client.get("/admin/cases", params={"q": "路" * 51}, headers=world.town_dispatcher)
    assert page.status == 400 and "搜索内容最多 50 个字" in await page.text()

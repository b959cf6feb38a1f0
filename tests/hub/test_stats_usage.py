"""GET /api/v1/stats, the usage part: known usage days sent up by three villages give exactly the figures worked
out by hand for the city, a town and a village; officials see their own scope only.

城关镇 (east: e1, e2, e3) and 河西镇 (west: w1); e1, e2 and w1 send their days through the real up-feed route.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hub.stats_period import STATS_ZONE
from protocol.records import put
from protocol.usage_day import record_id

from .kit import HubKit
from .official_kit import body_of, official, two_towns

PERIOD = "from=2026-11-01&to=2026-11-30"


def usage_day(day: str, tvs: int, households: int, notice_viewers: int, notice_views: int, areas: dict[str, int],
              live: tuple[int, int], recorded: tuple[int, int], alerts: tuple[int, int, int],
              checkins: tuple[int, int]) -> dict[str, Any]:
    body = {
        "day": day, "tvs_active": tvs, "households": households, "notice_views": notice_views,
        "notice_viewers": notice_viewers, "area_opens": areas, "notices": {},
        "live": {"peak": live[0], "minutes": live[1]}, "recorded": {"peak": recorded[0], "minutes": recorded[1]},
        "alerts": {"shown": alerts[0], "acknowledged": alerts[1], "ack_seconds": alerts[2]},
        "checkins": {"registered": checkins[0], "checked_in": checkins[1]},
    }
    return put("usage_day", record_id(day), body)


DAYS = {
    "e1": [
        usage_day("2026-10-31", 99, 100, 99, 99, {"party": 99}, (99, 99), (99, 99), (9, 9, 9), (10, 10)),  # before
        usage_day("2026-11-02", 30, 100, 20, 45, {"party": 10, "community": 5}, (12, 300), (3, 40), (8, 6, 180),
                  (10, 9)),
        usage_day("2026-11-03", 50, 100, 40, 60, {"party": 2}, (20, 100), (0, 0), (2, 2, 20), (10, 7)),
    ],
    "e2": [usage_day("2026-11-02", 10, 40, 4, 4, {"elderly": 7}, (5, 50), (1, 10), (0, 0, 0), (4, 4))],
    "w1": [usage_day("2026-11-02", 70, 80, 36, 90, {"party": 1}, (9, 200), (2, 20), (6, 2, 600), (6, 4))],
}


def shanghai(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=STATS_ZONE).timestamp()


@pytest.fixture
async def city(kit: HubKit) -> HubKit:
    await two_towns(kit)
    for village, ops in DAYS.items():
        edge = await kit.enroll(village)
        status, answer = await edge.push(edge.batch(edge.next_entries(ops)))
        assert status == 200, answer
    # e1's status pulls on 2 November: ok at 10:00, then every 15 s ok, ok, failed, ok; then one after a long
    # silence of the hub (not counted): online 45 s of 60 s observed.
    pulls = [("10:00:00", True), ("10:00:15", True), ("10:00:30", True), ("10:00:45", False), ("10:01:00", True),
             ("13:00:00", True)]
    for at, ok in pulls:
        async with kit.hub.store.transaction() as tx:
            tx.now = shanghai(f"2026-11-02T{at}")
            await tx.record_status("e1", ok, None if ok else "timeout", 5, None, None)
    return kit


async def _stats(kit: HubKit, headers: dict[str, str], query: str) -> tuple[int, dict[str, Any]]:
    resp = await kit.client.get(f"/api/v1/stats?{query}", headers=headers)
    return resp.status, await body_of(resp)


async def test_known_usage_days_give_the_hand_computed_figures_for_the_city_a_town_and_a_village(
    city: HubKit
) -> None:
    viewer = await official(city, "shi-chakan", "viewer", "city")
    status, answer = await _stats(city, viewer, f"scope=city&{PERIOD}")
    assert status == 200, answer
    assert (answer["scope"], answer["from"], answer["to"]) == ("city", "2026-11-01", "2026-11-30")
    usage = answer["usage"]
    assert usage["village_days"] == 4
    assert usage["tv_reach"] == 0.5  # (30 + 50 + 10 + 70) / (100 + 100 + 40 + 80)
    assert usage["notice_reach"] == 0.3125  # (20 + 40 + 4 + 36) / 320
    assert usage["notice_views"] == 199
    assert usage["area_opens"] == {"party": 13, "services": 0, "community": 5, "safety": 0, "elderly": 7,
                                   "live": 0, "interaction": 0, "meetings": 0}
    assert usage["viewers"] == {"live": {"peak": 20, "minutes": 650}, "recorded": {"peak": 3, "minutes": 70}}
    assert usage["alerts"] == {"shown": 16, "acknowledged": 10, "acknowledged_rate": 0.625,
                               "mean_seconds_to_acknowledge": 80.0}  # (180 + 20 + 0 + 600) / 10
    assert usage["checkins"] == {"expected": 30, "done": 24, "compliance": 0.8}
    assert usage["online_share"] == 0.75  # e1 only: 45 s online of 60 s observed
    by_village = {v["id"]: v for v in answer["villages"]}
    assert set(by_village) == {"e1", "e2", "e3", "w1"}
    assert by_village["e3"]["usage"]["village_days"] == 0 and by_village["e3"]["usage"]["tv_reach"] is None
    assert by_village["e1"]["name"] == "东庄村" and by_village["e1"]["town_name"] == "城关镇"
    assert {t["id"]: t["usage"]["tv_reach"] for t in answer["towns"]} == {"east": 0.375, "west": 0.875}

    status, town = await _stats(city, viewer, f"scope=town:east&{PERIOD}")
    assert status == 200, town
    east = town["usage"]
    assert east["village_days"] == 3
    assert east["tv_reach"] == 0.375  # 90 / 240
    assert east["notice_reach"] == 0.2667  # 64 / 240
    assert east["viewers"] == {"live": {"peak": 20, "minutes": 450}, "recorded": {"peak": 3, "minutes": 50}}
    assert east["alerts"]["acknowledged_rate"] == 0.8 and east["alerts"]["mean_seconds_to_acknowledge"] == 25.0
    assert east["checkins"] == {"expected": 24, "done": 20, "compliance": 0.8333}
    assert {v["id"] for v in town["villages"]} == {"e1", "e2", "e3"}

    status, village = await _stats(city, viewer, f"scope=village:e1&{PERIOD}")
    assert status == 200, village
    e1 = village["usage"]
    assert (e1["village_days"], e1["tv_reach"], e1["notice_reach"]) == (2, 0.4, 0.3)
    assert e1["alerts"] == {"shown": 10, "acknowledged": 8, "acknowledged_rate": 0.8,
                            "mean_seconds_to_acknowledge": 25.0}
    assert e1["checkins"]["compliance"] == 0.8 and e1["online_share"] == 0.75
    assert village["villages"][0]["usage"] == {k: v for k, v in e1.items() if k != "notices"}

    status, october = await _stats(city, viewer, "scope=village:e1&from=2026-10-31&to=2026-10-31")
    assert october["usage"]["tv_reach"] == 0.99 and october["usage"]["online_share"] is None


async def test_a_town_viewer_sees_its_own_town_and_gets_403_for_another_town_or_the_city(city: HubKit) -> None:
    viewer = await official(city, "cg-chakan", "viewer", "town:east")
    status, own = await _stats(city, viewer, PERIOD)
    assert status == 200 and own["scope"] == "town:east" and own["usage"]["tv_reach"] == 0.375
    for scope in ("town:west", "city", "village:w1"):
        status, refused = await _stats(city, viewer, f"scope={scope}&{PERIOD}")
        assert (status, refused["error"]) == (403, "out_of_scope"), scope
    editor = await official(city, "cg-bianji", "editor", "town:east")
    status, refused = await _stats(city, editor, PERIOD)
    assert (status, refused["error"]) == (403, "forbidden")


async def test_a_second_record_for_a_day_changes_nothing_and_bad_periods_are_refused(city: HubKit) -> None:
    edge = await city.enroll("e3")
    first = usage_day("2026-11-05", 5, 10, 0, 0, {}, (0, 0), (0, 0), (0, 0, 0), (0, 0))
    again = usage_day("2026-11-05", 9, 10, 0, 0, {}, (0, 0), (0, 0), (0, 0, 0), (0, 0))
    status, _ = await edge.push(edge.batch(edge.next_entries([first, again])))
    assert status == 200
    status, answer = await _stats(city, city.admin, f"scope=village:e3&{PERIOD}")
    assert answer["usage"]["tv_reach"] == 0.5  # the first record stands
    for query, code in ((f"scope=town:nowhere&{PERIOD}", "no_such_place"), ("from=2026-12-01&to=2026-11-01",
                                                                             "bad_parameter"),
                        ("from=yesterday", "bad_parameter"), ("scope=planet:mars", "unknown_scope")):
        resp = await city.client.get(f"/api/v1/stats?{query}", headers=city.admin)
        assert resp.status in (400, 404) and (await resp.json())["error"] == code, query


async def test_the_most_opened_notices_are_listed_with_their_titles_and_views_in_scope(city: HubKit) -> None:
    water = (await city.notice(title="停水通知"))["id"]
    road = (await city.notice(title="道路施工"))["id"]
    views = {"e3": {water: 7, road: 2}, "w1": {road: 40}}
    for village, notices in views.items():
        edge = await city.enroll(village)  # e3 for the first time; w1 as a new box, whose up feed starts afresh
        day = usage_day("2026-11-09", 1, 10, 1, sum(notices.values()), {}, (0, 0), (0, 0), (0, 0, 0), (0, 0))
        day["body"]["notices"] = notices
        status, answer = await edge.push(edge.batch(edge.next_entries([day])))
        assert status == 200, answer
    status, answer = await _stats(city, city.admin, f"scope=city&{PERIOD}")
    assert answer["usage"]["notices"] == [
        {"id": road, "title": "道路施工", "views": 42, "villages": 2},
        {"id": water, "title": "停水通知", "views": 7, "villages": 1},
    ]
    status, answer = await _stats(city, city.admin, f"scope=town:east&{PERIOD}")
    assert [(n["title"], n["views"]) for n in answer["usage"]["notices"]] == [("停水通知", 7), ("道路施工", 2)]

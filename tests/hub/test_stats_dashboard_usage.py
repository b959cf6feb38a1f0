"""The dashboard's usage headlines over the hand-computed usage days of tests/hub/test_stats_usage.py: TV reach,
alert acknowledgement, check-in compliance and online share for November, each against October's one day (e1's
10-31: 99 of 100 TVs, 9 of 9 alerts, 10 of 10 check-ins), in the JSON and on the page's cards.
"""

from __future__ import annotations

from typing import Any

from .kit import HubKit
from .official_kit import body_of, official
from .test_stats_usage import city  # noqa: F401 (the fixture `city`: the hand-computed usage days)

NOVEMBER = "scope=city&from=2026-11-01&to=2026-11-30"


async def test_the_usage_headlines_and_their_change_from_october_are_the_hand_computed_ones(
    city: HubKit,  # noqa: F811
) -> None:
    viewer = await official(city, "shi-chakan", "viewer", "city")
    resp = await city.client.get(f"/api/v1/stats/dashboard?{NOVEMBER}", headers=viewer)
    answer: dict[str, Any] = await body_of(resp)
    assert resp.status == 200, answer
    lines = {h["key"]: (h["value"], h["previous"], h["change"]) for h in answer["headlines"]}
    assert lines["tv_reach"] == (0.5, 0.99, -0.49)  # 160 / 320 against 99 / 100
    assert lines["alerts_acknowledged_rate"] == (0.625, 1.0, -0.375)  # (6 + 2 + 0 + 2) / (8 + 2 + 0 + 6)
    assert lines["checkin_compliance"] == (0.8, 1.0, -0.2)  # (9 + 7 + 4 + 4) / (10 + 10 + 4 + 6)
    assert lines["online_share"] == (0.75, None, None)  # e1: 45 s of 60 s observed; no pulls in October
    week = next(w for w in answer["weeks"] if w["week"] == "2026-11-02")
    assert week["tv_reach"] == 0.5 and week["received"] == 0

    page = await city.client.get("/admin/dashboard?period=month:2026-11", headers=viewer)
    html = await page.text()
    assert page.status == 200
    for shown in ("50.0%", "比上期 ↓ 49.0 个百分点", "62.5%", "比上期 ↓ 37.5 个百分点", "80.0%", "75.0%"):
        assert shown in html, shown

"""The statistics dashboard (/admin/dashboard and GET /api/v1/stats/dashboard) over the hand-computed cases of
tests/hub/test_stats_cases.py, in headless chromium against the hub on 127.0.0.1: the city's and a town's headline
rates and their change from October, the charts drawn by the hub's own copy of ECharts, the ranking, the map's
toggle; a town's viewer sees only the town (page and API 403 elsewhere); screenshots at 1366×768 and 390 px.

October's one case (c9, received 10-31, signed and answered on time, rated 5) makes the previous period's three
rates 100%, so the city's November changes are 75.0 - 100, 57.1 - 100 and 50.0 - 100 points.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.sample_city import DEMO_PASSWORD
from tests.browser import chromium, save_screenshot

from .kit import HubKit
from .official_kit import body_of, login, make_official
from .officials_page_kit import log_in, requests_elsewhere, wait_text
from .test_stats_cases import at, city  # noqa: F401 (the fixture `city`: the hand-computed cases)

OFFICE = (1366, 768)
PHONE = (390, 844)
NOVEMBER = "/admin/dashboard?period=month:2026-11"
ECHARTS = Path(__file__).parents[2] / "hub" / "static" / "vendor" / "echarts"
COORDINATES = {"e1": (29.80, 119.40), "e2": (29.82, 119.43), "e3": (29.84, 119.45), "w1": (29.86, 119.475)}
T = TypeVar("T")


async def _in_browser(work: Callable[[], T]) -> T:
    """Selenium blocks; the hub under test answers on this event loop, so the browser waits in a thread."""
    return await asyncio.to_thread(work)


def _cards(driver: webdriver.Chrome) -> dict[str, tuple[str, str]]:
    """Each headline card's value and its change line, by key."""
    return {c.get_attribute("data-key") or "": (c.find_element(By.CLASS_NAME, "card-value").text,
                                               c.find_element(By.CLASS_NAME, "card-change").text)
            for c in driver.find_elements(By.CSS_SELECTOR, "#headlines .card")}


def _charts_drawn(driver: webdriver.Chrome) -> None:
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-charts") == "4")
    for chart in ("chart-trend", "chart-towns", "chart-satisfaction", "chart-map"):
        assert driver.find_elements(By.CSS_SELECTOR, f"#{chart} canvas"), chart


async def _city_world(kit: HubKit) -> str:
    """The officials, the villages' coordinates, and the hub's clock at 2026-11-30 12:00 in Shanghai."""
    await make_official(kit, "shi-chakan", "viewer", "city", "市查看员", password=DEMO_PASSWORD)
    await make_official(kit, "zhen-chakan", "viewer", "town:east", "镇查看员", password=DEMO_PASSWORD)
    async with kit.hub.store.transaction() as tx:
        for vid, (lat, lon) in COORDINATES.items():
            await tx.set_village_coordinates(vid, lat, lon)
    return str(kit.client.make_url("")).rstrip("/")


def _at_end_of_november(kit: HubKit) -> None:
    # After the browser logged in: sessions expire by the real time.
    kit.hub.store.clock = lambda: at("11-30 12:00") or 0.0


async def test_the_dashboard_shows_the_hand_computed_rates_of_the_city_and_a_town_with_their_change(
    city: HubKit,  # noqa: F811
) -> None:
    base = await _city_world(city)
    browser = chromium(*OFFICE)
    driver = await _in_browser(browser.__enter__)
    try:
        await _in_browser(lambda: log_in(driver, base, "shi-chakan"))
        _at_end_of_november(city)

        def the_city() -> dict[str, tuple[str, str]]:
            driver.get(base + NOVEMBER)
            _charts_drawn(driver)
            save_screenshot(driver, "dashboard-city-1366")
            assert "统计看板" in driver.find_element(By.CSS_SELECTOR, "#nav a.here").text
            towns = [r.get_attribute("data-id") for r in driver.find_elements(By.CSS_SELECTOR, "#rank-towns tbody tr")]
            assert towns == ["west", "east"]  # 河西镇 answered all on time, 城关镇 half
            driver.execute_script("document.getElementById('chart-trend').scrollIntoView()")
            save_screenshot(driver, "dashboard-city-charts-1366")
            driver.find_element(By.ID, "map-overdue").click()
            assert driver.find_element(By.ID, "chart-map").get_attribute("data-mode") == "overdue"
            assert "4 个村（社区）中 4 个有坐标" in driver.find_element(By.ID, "map-note").text
            driver.execute_script("document.getElementById('chart-map').scrollIntoView()")
            save_screenshot(driver, "dashboard-city-map-1366")
            assert requests_elsewhere(driver, base) == []
            loaded = driver.execute_script(
                "return performance.getEntries().map(function (e) { return e.name; })")
            assert base + "/admin/static/vendor/echarts/echarts.common.min.js" in loaded
            links = driver.execute_async_script("""
                var done = arguments[arguments.length - 1], ids = ["dash-xlsx", "dash-report"];
                Promise.all(ids.map(function (id) {
                  return fetch(document.getElementById(id).href).then(function (r) {
                    return r.status + " " + r.headers.get("Content-Type"); });
                })).then(done);""")
            assert links == ["200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             "200 application/pdf"]  # the links work with the page's session
            return _cards(driver)

        cards = await _in_browser(the_city)
        assert cards["accepted_on_time_rate"] == ("75.0%", "比上期 ↓ 25.0 个百分点 (上期 100.0%)")
        assert cards["answered_on_time_rate"] == ("57.1%", "比上期 ↓ 42.9 个百分点 (上期 100.0%)")
        assert cards["satisfied_rate"] == ("50.0%", "比上期 ↓ 50.0 个百分点 (上期 100.0%)")
        assert cards["tv_reach"][0] == "—" and cards["tv_reach"][1].startswith("无可比数据")  # no usage days

        def the_town() -> dict[str, tuple[str, str]]:
            Select(driver.find_element(By.ID, "dash-scope-select")).select_by_value("town:east")
            driver.find_element(By.CSS_SELECTOR, "#dash-form button[type=submit]").click()
            wait_text(driver, "#dash-scope", "城关镇")
            _charts_drawn(driver)
            return _cards(driver)

        town = await _in_browser(the_town)
        assert (town["accepted_on_time_rate"][0], town["answered_on_time_rate"][0], town["satisfied_rate"][0]) == (
            "60.0%", "50.0%", "100.0%")
    finally:
        await _in_browser(lambda: browser.__exit__(None, None, None))


async def test_a_town_viewer_sees_only_the_town_on_a_phone_and_is_refused_elsewhere_by_page_and_api(
    city: HubKit,  # noqa: F811
) -> None:
    base = await _city_world(city)
    bearer = await login(city, "zhen-chakan", DEMO_PASSWORD)
    browser = chromium(*PHONE)
    driver = await _in_browser(browser.__enter__)
    try:
        await _in_browser(lambda: log_in(driver, base, "zhen-chakan"))
        _at_end_of_november(city)

        def on_the_phone() -> tuple[list[str], int, str]:
            driver.get(base + NOVEMBER)
            _charts_drawn(driver)
            save_screenshot(driver, "dashboard-town-390")
            driver.execute_script("document.getElementById('chart-towns').scrollIntoView()")
            save_screenshot(driver, "dashboard-town-charts-390")
            offered = [o.get_attribute("value") or "" for o in
                       Select(driver.find_element(By.ID, "dash-scope-select")).options]
            overflow = int(driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"))
            driver.get(base + NOVEMBER + "&scope=town:west")
            return offered, overflow, driver.find_element(By.TAG_NAME, "main").text

        offered, overflow, refused = await _in_browser(on_the_phone)
        assert offered == ["town:east", "village:e1", "village:e2", "village:e3"]
        assert overflow == 0  # the page never scrolls sideways; wide tables scroll inside their box
        assert "town:west" in refused or "范围" in refused
    finally:
        await _in_browser(lambda: browser.__exit__(None, None, None))
    for scope in ("town:west", "city", "village:w1"):
        resp = await city.client.get(f"/api/v1/stats/dashboard?scope={scope}&from=2026-11-01&to=2026-11-30",
                                     headers=bearer)
        assert (resp.status, (await body_of(resp))["error"]) == (403, "out_of_scope"), scope
        page = await city.client.get(f"{NOVEMBER}&scope={scope}", headers=bearer)
        assert page.status == 403, scope


async def test_the_dashboard_answer_holds_headlines_weeks_and_the_villages_map(city: HubKit) -> None:  # noqa: F811
    await _city_world(city)
    bearer = await login(city, "shi-chakan", DEMO_PASSWORD)
    _at_end_of_november(city)
    resp = await city.client.get("/api/v1/stats/dashboard?scope=city&from=2026-11-01&to=2026-11-30", headers=bearer)
    answer: dict[str, Any] = await body_of(resp)
    assert resp.status == 200, answer
    headlines = {h["key"]: h for h in answer["headlines"]}
    assert headlines["accepted_on_time_rate"] == {"key": "accepted_on_time_rate", "value": 0.75, "previous": 1.0,
                                                  "change": -0.25}
    assert headlines["answered_on_time_rate"]["change"] == round(0.5714 - 1.0, 4)
    assert headlines["online_share"] == {"key": "online_share", "value": None, "previous": None, "change": None}
    assert answer["previous"] == {"from": "2026-10-02", "to": "2026-10-31"}
    weeks = answer["weeks"]
    assert weeks[0]["week"] == "2026-11-01" and [w["week"] for w in weeks[1:]] == [
        "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]  # Mondays, cut at the period's start
    assert sum(w["received"] for w in weeks) == 9
    places = {p["id"]: p for p in answer["map"]}
    assert places["e1"]["overdue"] == 1 and places["w1"]["overdue"] == 0 and places["e1"]["online"] is False
    assert (places["w1"]["latitude"], places["w1"]["longitude"]) == (29.86, 119.475)


async def test_the_hub_serves_its_own_echarts_with_the_sha256_its_note_gives(city: HubKit) -> None:  # noqa: F811
    note = (ECHARTS / "VERSION.md").read_text(encoding="utf-8")
    resp = await city.client.get("/admin/static/vendor/echarts/echarts.common.min.js")
    assert resp.status == 200
    served = hashlib.sha256(await resp.read()).hexdigest()
    assert served in re.findall(r"`([0-9a-f]{64})`", note)
    assert (await city.client.get("/admin/static/vendor/echarts/LICENSE")).status == 200


async def test_a_units_handler_sees_the_dashboard_of_the_cases_the_unit_holds(city: HubKit) -> None:  # noqa: F811
    await make_official(city, "mz-banli", "handler", "unit:east-mz", "民政办承办人", password=DEMO_PASSWORD)
    handler = await login(city, "mz-banli", DEMO_PASSWORD)
    _at_end_of_november(city)
    page = await city.client.get(NOVEMBER, headers=handler)
    html = await page.text()
    assert page.status == 200, html
    assert "城关镇民政办" in html and "66.7%" in html  # c1, c2, c6: c1 and c6 signed for on time, c2 late
    assert "本期受理 3 件" in html

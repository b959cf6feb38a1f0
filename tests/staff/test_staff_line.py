"""The staff page with real hub and edge processes: a local reply made with the line down reaches the hub when it
returns, a village notice stays in its village, and the dashboard follows the line and the STBs on the LAN."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from deploy.simulated_stb import SimulatedStb
from tests.browser import save_screenshot
from tests.device_kit import Residents
from tests.integration.system import FAST_EDGE, System, build_system, http, wait_for

from .conftest import add_account, log_in
from .test_staff_browser import wait_text

# Small liveness numbers so a silent STB drops out in seconds (production: 30 s and 90 s).
MDNS_EDGE = FAST_EDGE.replace("mdns = false", "mdns = true") + "discovery_recheck_s = 0.5\ndiscovery_stale_s = 2.0\n"


@pytest.fixture
def system(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[System]:
    villages = getattr(request, "param", ["v1"])
    s = build_system(tmp_path, villages)
    for vid in villages:
        add_account(s.edge_dir(vid), f"admin-{vid}", "admin")
    try:
        yield s
    finally:
        s.stop_all()


def hub_edge_records(s: System, kind: str) -> list[tuple[str, str]]:
    with sqlite3.connect(s.hub_dir / "hub.db") as conn:
        return list(conn.execute("SELECT village_id, id FROM edge_records WHERE kind = ?", (kind,)))


def test_a_local_reply_made_with_the_line_down_shows_at_once_and_reaches_the_hub_when_the_line_is_up(
    system: System, browser: webdriver.Chrome
):
    edge = system.edges["v1"].start()  # the hub is not running: the line is down
    sid = str(uuid.uuid4())
    residents = Residents(edge.url)
    status, _, _ = residents.post({"id": sid, "kind": "consultation", "device_id": "stb-9", "body": {"text": "医保怎么交？"}})
    assert status == 201
    log_in(browser, edge.url, user="admin-v1")
    wait_text(browser, "#whoami", "admin-v1")
    browser.get(f"{edge.url}/staff/inbox/{sid}")
    browser.find_element(By.ID, "reply-text").send_keys("请带身份证到村委会办理。")
    browser.find_element(By.ID, "reply-button").click()
    view = wait_for("the reply at the edge", lambda: (
        v := residents.get(sid)[1])["replies"] and v, timeout_s=2.0, every_s=0.05)
    assert view["replies"][0]["text"] == "请带身份证到村委会办理。" and view["state"] == "answered"
    browser.get(f"{edge.url}/staff/inbox/{sid}")
    browser.find_element(By.ID, "handover-button").click()
    wait_text(browser, "#state", "已回复")

    system.hub.start(ready_path="/api/v1/trust")
    held = wait_for("the reply at the hub", lambda: [
        s for s in system.hub_submissions("v1") if s["id"] == sid and s["replies"]], timeout_s=30)
    assert [r["text"] for r in held[0]["replies"]] == ["请带身份证到村委会办理。"]
    assert wait_for("the handover at the hub", lambda: hub_edge_records(system, "submission_handover")) == [
        ("v1", sid)]


@pytest.mark.parametrize("system", [["v1", "v2"]], indirect=True)
def test_a_village_notice_shows_on_the_tvs_of_its_village_and_of_no_other(system: System, browser: webdriver.Chrome):
    system.hub.start(ready_path="/api/v1/trust")
    v1, v2 = system.edges["v1"].start(), system.edges["v2"].start()
    log_in(browser, v1.url, user="admin-v1")
    wait_text(browser, "#whoami", "admin-v1")
    browser.get(v1.url + "/staff/notices")
    browser.find_element(By.ID, "notice-title").send_keys("一村明天停水")
    browser.find_element(By.ID, "notice-body").send_keys("上午八点到十二点。")
    browser.find_element(By.ID, "publish-button").click()
    wait_text(browser, "#done", "通知已发布")
    browser.get(v1.url + "/tv/area/community")
    assert "一村明天停水" in browser.page_source

    notice_id = wait_for("the notice kept at the hub", lambda: hub_edge_records(system, "village_notice"))[0][1]
    # Prove v2 is syncing: a city notice published after the village notice went up reaches it.
    system.publish("全市防汛提示", "city")
    titles = wait_for("the city notice at v2", lambda: (
        t := {n["title"] for n in http("GET", v2.url + "/api/v1/notices")[1]["notices"]}) >= {"全市防汛提示"} and t)
    assert "一村明天停水" not in titles
    browser.get(v2.url + "/tv/area/community")
    assert "一村明天停水" not in browser.page_source
    v1_notices = http("GET", v1.url + "/api/v1/notices")[1]["notices"]
    assert notice_id in {n["id"] for n in v1_notices}


class StbLoop:
    """Simulated STBs need an event loop while the browser test blocks: one on a thread, stopped afterwards."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="simulated-stbs", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def run_all(self, coros: list[Coroutine[Any, Any, Any]]) -> Any:
        async def together() -> Any:
            return await asyncio.gather(*coros, return_exceptions=True)

        return self.run(together())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def shown(driver: webdriver.Chrome) -> tuple[str, int, set[str]]:
    """Line state, STB count and listed device ids, read in one script so the 2 s refresh cannot tear them."""
    state, count, ids = driver.execute_script(
        "return [document.getElementById('line-state').getAttribute('data-online'),"
        " document.getElementById('stb-count').textContent,"
        " Array.from(document.querySelectorAll('#stb-rows tr td:first-child')).map(function (td) {"
        "   return td.textContent; })];"
    )
    return str(state), int(count), set(ids)


def test_the_dashboard_follows_the_line_down_and_up_and_the_stbs_as_they_come_and_go(
    system: System, browser: webdriver.Chrome
):
    (system.edge_dir("v1") / "config.toml").write_text(MDNS_EDGE)
    system.hub.start(ready_path="/api/v1/trust")
    edge = system.edges["v1"].start()
    log_in(browser, edge.url, user="admin-v1")
    wait_text(browser, "#whoami", "admin-v1")
    wait_for("the line shown up", lambda: shown(browser)[0] == "yes", timeout_s=20)
    wait_for("the last sync shown", lambda: "从未" not in browser.find_element(By.ID, "last-sync").text)

    system.hub.stop()
    wait_for("the line shown down", lambda: shown(browser)[0] == "no", timeout_s=15)
    save_screenshot(browser, "staff-dashboard-line-down")
    system.hub.start(ready_path="/api/v1/trust")
    wait_for("the line shown up again", lambda: shown(browser)[0] == "yes", timeout_s=20)

    tag = uuid.uuid4().hex[:6]
    stbs = [SimulatedStb(f"dash-{tag}-{i}", model="VN-STB-200", firmware=f"2.0.{i}", instance=f"dash-{tag}-{i}")
            for i in range(3)]
    ids = {s.device_id for s in stbs}
    loop = StbLoop()
    try:
        for outcome in loop.run_all([stb.advertise() for stb in stbs]):  # mDNS probing takes a second each
            assert outcome is None, outcome

        def mine_and_consistent(expected: set[str]) -> bool:
            _, count, listed = shown(browser)
            return (listed & ids) == expected and count == len(listed)

        wait_for("three STBs shown", lambda: mine_and_consistent(ids), timeout_s=20)
        rows = browser.execute_script("return document.getElementById('stb-rows').innerText")
        row = next(line for line in rows.splitlines() if stbs[0].device_id in line)
        assert "VN-STB-200" in row and "2.0.0" in row
        save_screenshot(browser, "staff-dashboard-stbs")
        loop.run(stbs[0].goodbye())  # switched off politely
        wait_for("the goodbye shown", lambda: mine_and_consistent(ids - {stbs[0].device_id}), timeout_s=10)
        loop.run(stbs[1].vanish())  # the plug pulled: only the silence tells
        wait_for("the vanished STB dropped", lambda: mine_and_consistent({stbs[2].device_id}), timeout_s=20)
        loop.run(stbs[0].advertise())  # back on
        wait_for("the returning STB counted once", lambda: mine_and_consistent({stbs[0].device_id, stbs[2].device_id}),
                 timeout_s=20)
    finally:
        loop.run_all([stb.goodbye() for stb in stbs])
        loop.close()

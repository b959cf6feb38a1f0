"""Issue 14, "one LAN host can exhaust the box": a TV over its hourly submission quota is told so on its screen
(the edge answers 429), and nothing more is stored or sent."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from tests.integration.system import build_system, http, wait_for

from .conftest import device_headers
from .remote import Remote, tv_viewport


def _status_line(driver) -> str:
    try:
        return str(driver.find_element(By.ID, "form-status").text)
    except WebDriverException:
        return ""


def test_a_tv_over_its_submission_quota_says_so_on_screen_and_nothing_more_is_kept(browser, tmp_path: Path) -> None:
    system = build_system(tmp_path, ["v1"])
    config = system.edge_dir("v1") / "config.toml"
    config.write_text(config.read_text().replace("submissions_per_device_per_hour = 100000",
                                                 "submissions_per_device_per_hour = 2"))
    try:
        edge = system.edges["v1"].start()  # the line stays down: the quota is the box's own
        tv_viewport(browser)
        browser.get(f"{edge.url}/tv/?device=stb-quota")
        remote = Remote(browser, "standard")
        remote.wait_page("home")
        for _ in range(2):  # this TV's two for the hour, sent as the app sends them
            status, body, _ = http("POST", edge.url + "/api/v1/submissions", {
                "id": str(uuid.uuid4()), "kind": "feedback", "device_id": "stb-quota", "body": {"text": "路灯坏了"}},
                headers=device_headers(browser))
            assert status == 201, body
        remote.walk_to("area-interaction")
        remote.ok()
        remote.wait_page("area-interaction")
        remote.walk_to("action-feedback")
        remote.ok()
        remote.wait_page("form-feedback")
        remote.walk_to("choice-1")
        remote.ok()
        remote.walk_to("submit")
        remote.ok()
        wait_for("the quota sentence on the screen", lambda: "提交得太频繁" in _status_line(browser), timeout_s=10)
        remote.wait_page("form-feedback")  # still on the form: nothing was taken
        with sqlite3.connect(system.edge_dir("v1") / "edge.db") as db:
            assert db.execute("SELECT count(*) FROM submissions").fetchone()[0] == 2
    finally:
        system.stop_all()

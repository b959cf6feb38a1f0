"""Issue 12, item 4 on the TV: the state of the city's case in words (已受理, 办理中, 已答复, 已办结) and the expected
date, as the hub's `case_status` records bring them down; Chinese first, English one setting away."""

from __future__ import annotations

import re

from tests.integration.system import System, wait_for

from .conftest import edge_url
from .remote import open_on_tv, screen_text
from .rules import check_screen

EXPECTED = re.compile(r"预计 (\d{4}-\d{2}-\d{2}) 前办结")


def test_the_tv_shows_the_cases_state_in_words_and_its_expected_date_until_it_is_closed(browser, tv_system: System):
    remote = open_on_tv(browser, f"{edge_url(tv_system)}/tv/form/consultation?device=stb-case-state",
                        "form-consultation")
    remote.walk_to("choice-0")
    remote.ok()
    remote.walk_to("submit")
    remote.ok()
    remote.wait_page("submission")
    sid = browser.current_url.rstrip("/").rsplit("/", 1)[1]

    # The hub opens a case (a consultation is due in 3 working days) and its state comes down by itself.
    wait_for("已受理 with the expected date", lambda: "已受理" in (t := screen_text(browser)) and EXPECTED.search(t),
             timeout_s=25)
    check_screen(browser, "tv-submission-received")
    browser.get(f"{edge_url(tv_system)}/tv/mine")
    remote.wait_page("mine")
    assert "已受理" in screen_text(browser) and EXPECTED.search(screen_text(browser))
    browser.get(f"{edge_url(tv_system)}/tv/mine/{sid}?lang=en")
    remote.wait_page("submission")
    assert "Received" in screen_text(browser) and re.search(r"Expected by \d{4}-\d{2}-\d{2}", screen_text(browser))
    browser.get(f"{edge_url(tv_system)}/tv/mine/{sid}?lang=zh-CN")
    remote.wait_page("submission")

    reply = "社保卡补办请带身份证到镇便民服务中心。"
    assert tv_system.admin("POST", f"/api/v1/submissions/{sid}/replies", {"text": reply})[0] == 201
    wait_for("已答复 with the reply", lambda: "已答复" in (t := screen_text(browser)) and reply in t, timeout_s=25)
    remote.wait_page("submission")
    assert not EXPECTED.search(screen_text(browser)), "an answered case has no expected date any more"
    remote.digits("5")  # a satisfied resident: the rating closes the case
    wait_for("已办结", lambda: "已办结" in screen_text(browser), timeout_s=25)

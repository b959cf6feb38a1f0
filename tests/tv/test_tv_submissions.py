"""Acceptance 3, 4 and 6: feedback by remote (choices and digits) is delivered (已送达), answered, rated, and the
rating reaches the hub; the daily check-in is one press from home and reaches the hub; both with the iPanel map."""

from __future__ import annotations

import re
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from tests.browser import save_screenshot as save_screenshot_of
from tests.integration.system import System, http, wait_for

from .conftest import device_headers, edge_url
from .remote import Remote, tv_viewport
from .rules import check_screen


def _at_hub(system: System, match: Any) -> list[dict[str, Any]]:
    return [s for s in system.hub_submissions("v1") if match(s)]


def _text(driver) -> str:
    """What the screen says now; the page reloads itself when the state changes, so ask again if it is mid-way."""
    try:
        return str(driver.find_element(By.ID, "content").text)
    except WebDriverException:
        return ""


@pytest.mark.parametrize("middleware", ["standard", "ipanel"])
def test_feedback_by_remote_is_delivered_answered_and_rated_and_the_rating_reaches_the_hub(
        browser, tv_system: System, middleware: str):
    tv_viewport(browser)
    device = f"stb-feedback-{middleware}"
    browser.get(f"{edge_url(tv_system)}/tv/?mw={middleware}&device={device}")
    remote = Remote(browser, middleware)
    remote.wait_page("home")
    remote.walk_to("area-interaction")
    remote.ok()
    remote.wait_page("area-interaction")
    remote.walk_to("action-feedback")
    remote.ok()
    remote.wait_page("form-feedback")
    remote.walk_to("submit")
    remote.ok()  # nothing chosen yet: a sentence on the page says what to do, no pop-up
    assert "请先选择一项" in _text(browser) and remote.focused_id() == "choice-0"
    remote.walk_to("choice-1")
    remote.ok()
    remote.digits("1380013")  # the remote's number keys
    remote.walk_to("pad-8")  # and the pad on the screen
    remote.ok()
    remote.walk_to("pad-del")
    remote.ok()
    remote.walk_to("pad-9")
    remote.ok()
    assert browser.find_element(By.ID, "number").text == "13800139"
    if middleware == "standard":
        check_screen(browser, "tv-form-filled")
    remote.walk_to("submit")
    remote.ok()
    remote.wait_page("submission")
    sid = browser.current_url.rstrip("/").rsplit("/", 1)[1]

    # Delivered: 已送达, or already 已受理 when the city's case for it came down before the page looked again.
    wait_for("已送达 on the screen", lambda: "已送达" in (t := _text(browser)) or "已受理" in t, timeout_s=20)
    held = _at_hub(tv_system, lambda s: s["id"] == sid)
    assert held and held[0]["kind"] == "feedback" and held[0]["device_id"] == device
    assert held[0]["body"] == {"text": "环境卫生", "choice": 1, "phone": "13800139"}

    reply = f"您反映的环境卫生问题已安排保洁员处理（{middleware}）。"
    assert tv_system.admin("POST", f"/api/v1/submissions/{sid}/replies", {"text": reply})[0] == 201
    wait_for("the reply on the screen", lambda: reply in (t := _text(browser)) and "5 分" in t,
             timeout_s=25)
    remote.wait_page("submission")
    if middleware == "standard":
        check_screen(browser, "tv-submission-answered")
        remote.walk_to("score-4")
        remote.ok()
    else:
        remote.digits("4")  # a number key rates at once
    wait_for("the rating on the screen", lambda: "您的评价：4 分" in _text(browser), timeout_s=10)
    ratings = wait_for("the rating at the hub", lambda: _at_hub(
        tv_system, lambda s: s["kind"] == "rating" and s["body"].get("submission_id") == sid), timeout_s=20)
    assert ratings[0]["body"] == {"submission_id": sid, "score": 4} and ratings[0]["device_id"] == device

    remote.back()
    remote.wait_page("mine")

    def closed_by_the_rating() -> bool:  # a rating of 4 closes the case at the hub, and its state comes down
        browser.refresh()
        remote.wait_page("mine")
        return "已办结" in (t := _text(browser)) and "您的评价：4 分" in t

    wait_for("已办结 on my submissions", closed_by_the_rating, timeout_s=20)
    if middleware == "standard":
        check_screen(browser, "tv-mine")
    remote.back()
    remote.wait_page("home")


@pytest.mark.parametrize("middleware", ["standard", "ipanel"])
def test_the_daily_check_in_is_one_press_from_home_and_reaches_the_hub_once(browser, tv_system: System, middleware):
    tv_viewport(browser)
    device = f"stb-checkin-{middleware}"
    browser.get(f"{edge_url(tv_system)}/tv/?mw={middleware}&device={device}")
    remote = Remote(browser, middleware)
    remote.wait_page("home")
    assert remote.focused_id() == "checkin", "the check-in has the focus when home opens"
    remote.ok()  # the one press
    wait_for("今天已签到", lambda: "今天已签到" in browser.find_element(By.ID, "checkin").text, timeout_s=10)
    held = wait_for("the check-in at the hub", lambda: _at_hub(
        tv_system, lambda s: s["kind"] == "checkin" and s["device_id"] == device), timeout_s=20)
    assert held[0]["body"]["status"] == "well"

    browser.refresh()  # pressing again the same day sends nothing new
    remote.wait_page("home")
    assert "今天已签到" in browser.find_element(By.ID, "checkin").text
    remote.walk_to("checkin")
    remote.ok()
    status, body, _ = http("GET", f"{edge_url(tv_system)}/api/v1/submissions?device_id={device}",
                           headers=device_headers(browser))
    assert status == 200 and [s["kind"] for s in body["submissions"]] == ["checkin"]


def test_the_same_pages_fit_a_phone_and_a_consultation_is_sent_from_it(phone_browser, tv_system: System):
    driver = phone_browser
    device = "phone-1"
    driver.get(f"{edge_url(tv_system)}/tv/?device={device}")
    remote = Remote(driver)
    remote.wait_page("home")
    for path in ["/tv/", "/tv/area/services", "/tv/form/consultation", "/tv/settings"]:
        driver.get(edge_url(tv_system) + path)
        layout = driver.execute_script(
            "var out = [], all = TV.candidates();"
            "for (var i = 0; i < all.length; i++) { var r = all[i].getBoundingClientRect();"
            "  out.push([all[i].id, r.left, r.right, r.height]); }"
            "return {wide: document.documentElement.scrollWidth, width: innerWidth, items: out,"
            "        size: parseFloat(getComputedStyle(document.getElementById('heading')).fontSize)};")
        assert layout["wide"] <= layout["width"], f"{path}: the page is wider than the phone"
        for item_id, left, right, height in layout["items"]:
            assert left >= 0 and right <= layout["width"] + 0.5, f"{path}: {item_id} sticks out"
            assert height >= 44, f"{path}: {item_id} is too small to tap ({height} px)"
        assert layout["size"] >= 20
    driver.get(edge_url(tv_system) + "/tv/form/consultation")
    remote.wait_page("form-consultation")
    save_screenshot_of(driver, "tv-phone-consultation")
    remote.walk_to("choice-2")
    remote.ok()
    remote.walk_to("submit")
    remote.ok()
    remote.wait_page("submission")
    held = wait_for("the consultation at the hub", lambda: _at_hub(
        tv_system, lambda s: s["kind"] == "consultation" and s["device_id"] == device), timeout_s=20)
    assert held[0]["body"] == {"text": "户籍", "category": "户籍"}


def test_english_is_one_setting_away_and_chinese_comes_back(browser, tv_system: System):
    tv_viewport(browser)
    browser.get(f"{edge_url(tv_system)}/tv/?device=stb-lang")
    remote = Remote(browser)
    remote.wait_page("home")
    remote.walk_to("go-settings")
    remote.ok()
    remote.wait_page("settings")
    remote.walk_to("lang-en")
    remote.ok()
    wait_for("English", lambda: "Language" in _text(browser), timeout_s=10)
    remote.wait_page("settings")
    code = wait_for("the pairing code", lambda: re.search(r"Household pairing code: (\S+)", _text(browser)))
    status, body, _ = http("GET", f"{edge_url(tv_system)}/api/v1/pairing?device_id=stb-lang",
                           headers=device_headers(browser))
    assert status == 200 and body["code"] == code.group(1)
    check_screen(browser, "tv-settings-english")
    remote.back()
    remote.wait_page("home")
    assert "Party building" in _text(browser) and "I am well" in _text(browser)
    remote.walk_to("go-settings")
    remote.ok()
    remote.wait_page("settings")
    remote.walk_to("lang-zh")
    remote.ok()
    wait_for("Chinese again", lambda: "语言" in _text(browser), timeout_s=10)


def test_a_tv_without_a_device_id_registers_once_and_keeps_its_identity_when_the_cookie_is_lost(
        browser, tv_system: System):
    browser.get(f"{edge_url(tv_system)}/tv/")
    remote = Remote(browser)
    remote.wait_page("home")
    first = browser.execute_script("return TV.device")
    token = device_headers(browser)
    assert re.fullmatch(r"tv-[0-9a-f]{16}", first)
    assert browser.execute_script("return localStorage.getItem('device-token')") == browser.get_cookie("device_token")["value"]
    browser.delete_all_cookies()  # some STBs lose cookies on a power cut; localStorage survives
    browser.refresh()  # drawn without a device, then again with the token from localStorage: two page loads
    restored = wait_for("a device again", lambda: browser.execute_script("return window.TV && TV.token && TV.device"),
                        timeout_s=30)  # generous: a full run shares two cores with chromiums and the fuzzers
    assert restored == first
    assert device_headers(browser) == token
    # A portal's ?device= does not turn a registered TV into another one.
    browser.get(f"{edge_url(tv_system)}/tv/?device=stb-someone-else")
    remote.wait_page("home")
    assert browser.execute_script("return TV.device") == first


@pytest.mark.parametrize("form,kind,body", [
    ("incident", "incident", {"category": "道路损坏"}),
    ("service_request", "service_request", {"service": "补贴申领"}),
    ("care", "service_request", {"service": "养老助老：助餐送餐"}),
])
def test_each_form_sends_what_the_edge_accepts(browser, tv_system: System, form: str, kind: str, body: dict):
    tv_viewport(browser)
    device = f"stb-form-{form}"
    browser.get(f"{edge_url(tv_system)}/tv/form/{form}?device={device}")
    remote = Remote(browser)
    remote.wait_page(f"form-{form}")
    remote.walk_to("choice-1")
    remote.ok()
    remote.walk_to("submit")
    remote.ok()
    remote.wait_page("submission")
    status, listed, _ = http("GET", f"{edge_url(tv_system)}/api/v1/submissions?device_id={device}",
                             headers=device_headers(browser))
    assert status == 200 and [(s["kind"], s["body"]) for s in listed["submissions"]] == [(kind, body)]

"""Acceptance 1, 5 and 6: every area's notice is reached by remote keys from home and back returns home, under
the standard and the iPanel key maps; every screen meets the elderly-friendly numbers and is saved for review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from protocol.records import AREAS
from tests.browser import SCREENSHOTS
from tests.integration.system import System, http, wait_for

from .conftest import edge_url, publish_and_wait
from .media import make_picture, make_video, upload
from .remote import Remote, tv_viewport
from .rules import check_screen

AREA_TITLES = {
    "party": "党员冬训学习资料", "services": "社保卡办理指南", "community": "村委会换届公告",
    "safety": "冬季防火安全提示", "elderly": "老年人免费体检通知", "live": "春节联欢晚会录像",
    "interaction": "村民议事会意见征集", "meetings": "十二月村民代表大会纪要",
}


@pytest.fixture(scope="module")
def area_notices(tv_system: System, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One notice published at the hub in each of the eight areas; the party one with a picture and a video."""
    media = tmp_path_factory.mktemp("media")
    picture = upload(tv_system, make_picture(media / "p.jpg"))
    video = upload(tv_system, make_video(media / "v.mp4"))
    ids = {}
    for code in AREAS:
        attachments = ([{"sha256": picture, "mime": "image/jpeg"}, {"sha256": video, "mime": "video/mp4"}]
                       if code == "party" else None)
        ids[code] = publish_and_wait(tv_system, AREA_TITLES[code], area=code, attachments=attachments)
    wait_for("the picture at the edge", lambda: http("GET", f"{edge_url(tv_system)}/content/{picture}")[0] == 200)
    return ids


@pytest.mark.parametrize("middleware", ["standard", "ipanel"])
def test_a_notice_in_each_area_is_reached_by_keys_from_home_and_back_returns_home(
        browser, tv_system: System, area_notices: dict[str, str], middleware: str):
    tv_viewport(browser)
    browser.get(f"{edge_url(tv_system)}/tv/?mw={middleware}&device=stb-nav-{middleware}")
    remote = Remote(browser, middleware)
    remote.wait_page("home")
    for code in AREAS:
        remote.walk_to(f"area-{code}")
        remote.ok()
        remote.wait_page(f"area-{code}")
        remote.walk_to(f"n-{area_notices[code]}")
        remote.ok()
        remote.wait_page("notice")
        assert AREA_TITLES[code] in browser.find_element(By.ID, "notice").text
        remote.back()
        remote.wait_page(f"area-{code}")
        remote.back()
        remote.wait_page("home")
        assert remote.focused_id() == f"area-{code}", "back home, the focus is where the resident left it"
    remote.digits("7")  # a number key opens its area straight from home
    remote.wait_page("area-interaction")


def test_back_always_leads_home_and_every_screen_offers_a_way_on(browser, tv_system: System, area_notices):
    tv_viewport(browser)
    base = edge_url(tv_system)
    remote = Remote(browser)
    for path in ["/tv/settings", "/tv/mine", "/tv/form/feedback", "/tv/form/incident", "/tv/area/live",
                 f"/tv/notice/{area_notices['party']}", "/tv/notice/withdrawn-long-ago", "/tv/mine/not-mine"]:
        browser.get(base + path)
        for _ in range(4):
            page = remote.page()
            if page == "home":
                break
            assert browser.execute_script("return TV.candidates().length") > 0, f"{path}: a dead end"
            remote.back()
            wait_for("the next page", lambda p=page: remote.page() != p, timeout_s=10, every_s=0.05)
        assert remote.page() == "home", f"back from {path} did not reach home"


def _screens(base: str, ids: dict[str, str], sha_video: str) -> list[tuple[str, str]]:
    screens = [("home", "/tv/")] + [(f"area-{c}", f"/tv/area/{c}") for c in AREAS]
    screens += [("notice-with-picture", f"/tv/notice/{ids['party']}"), ("notice", f"/tv/notice/{ids['safety']}"),
                ("notice-gone", "/tv/notice/no-such-notice"), ("play", f"/tv/play/{sha_video}?notice={ids['party']}"),
                ("mine-empty", "/tv/mine"), ("settings", "/tv/settings")]
    screens += [(f"form-{f}", f"/tv/form/{f}") for f in ("feedback", "consultation", "service_request", "incident", "care")]
    return screens


@pytest.mark.parametrize("big", [False, True], ids=["normal-text", "larger-text"])
def test_every_screen_meets_the_elderly_rules_and_is_saved_for_review(browser, tv_system: System, area_notices, big):
    tv_viewport(browser)
    base = edge_url(tv_system)
    notices = http("GET", base + "/api/v1/notices?area=party")[1]["notices"]
    video = next(a["sha256"] for n in notices for a in n["attachments"] if a["mime"] == "video/mp4")
    browser.get(f"{base}/tv/settings/set?big={'1' if big else '0'}&device=stb-rules")
    figures = []
    for name, path in _screens(base, area_notices, video):
        browser.get(base + path)
        Remote(browser).wait_page(browser.execute_script("return document.body.getAttribute('data-page')"))
        figures.append(check_screen(browser, f"tv-{name}{'-big' if big else ''}"))
    assert browser.execute_script("return document.body.className").strip() == ("big" if big else "")
    SCREENSHOTS.mkdir(exist_ok=True)
    Path(SCREENSHOTS / f"tv-rules{'-big' if big else ''}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1))


def test_a_video_notice_plays_on_demand_by_keys_and_back_returns_to_the_notice(browser, tv_system: System, area_notices):
    tv_viewport(browser)
    browser.get(f"{edge_url(tv_system)}/tv/notice/{area_notices['party']}?device=stb-video")
    remote = Remote(browser)
    remote.wait_page("notice")
    remote.walk_to("play-2")
    remote.ok()
    remote.wait_page("play")
    assert remote.focused_id() == "toggle"
    player = "var v = document.getElementById('player');"
    wait_for("the video ready", lambda: browser.execute_script(player + "return v.readyState >= 2 && v.videoWidth"))
    if browser.execute_script(player + "return v.paused"):
        remote.ok()  # the browser held back autoplay: OK starts it
    wait_for("the video playing", lambda: browser.execute_script(player + "return !v.paused && v.currentTime > 0.2"))
    remote.ok()
    assert browser.execute_script(player + "return v.paused"), "OK pauses"
    remote.back()
    remote.wait_page("notice")

"""The meetings panel in the browser, wired to edge/streams: schedule, ingest URL and key for a real ffmpeg push,
start and stop, the homes watching, and a vote whose tally follows the remotes' votes."""

from __future__ import annotations

import shutil
import subprocess
import uuid

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser import save_screenshot
from tests.device_kit import pair_with_new_household
from tests.integration.system import http, wait_for
from tests.streams.kit import ffmpeg_push

from .conftest import ThreadedEdge, log_in
from .test_staff_browser import wait_text


def card_text(driver: webdriver.Chrome, css: str) -> str:
    return str(driver.execute_script(f"var e = document.querySelector({css!r}); return e ? e.textContent : '';"))


def test_a_meeting_is_scheduled_pushed_watched_voted_on_and_ended_from_the_panel(
    staff_edge: ThreadedEdge, browser: webdriver.Chrome
):
    assert shutil.which("ffmpeg"), "this test pushes real HLS with ffmpeg (Debian package ffmpeg)"
    log_in(browser, staff_edge.url)
    wait_text(browser, "#whoami", "admin1")
    browser.get(staff_edge.url + "/staff/meetings")
    browser.find_element(By.ID, "meeting-title").send_keys("三月村民大会")
    browser.find_element(By.ID, "meeting-button").click()
    wait_text(browser, "#done", "推流地址和密钥")
    card = browser.find_element(By.CSS_SELECTOR, "section.meeting")
    meeting_id = str(card.get_attribute("data-id"))
    ingest_url = card.find_element(By.CSS_SELECTOR, ".ingest-url").text
    key = card.find_element(By.CSS_SELECTOR, ".ingest-key").text
    assert ingest_url == f"{staff_edge.url}/ingest/{meeting_id}/index.m3u8" and len(key) >= 20

    card.find_element(By.CSS_SELECTOR, ".start-button").click()
    wait_text(browser, "section.meeting .meeting-state", "直播中")
    push = ffmpeg_push(ingest_url, key, 3.0)
    try:
        assert push.wait(30) == 0, push.stderr.read().decode() if push.stderr else ""
    except subprocess.TimeoutExpired:
        push.kill()
        raise
    status, playlist, _ = http("GET", f"{staff_edge.url}/streams/{meeting_id}/index.m3u8")
    assert status == 200
    segment = next(line for line in playlist.decode().splitlines() if line and not line.startswith("#"))
    for device in ("stb-a", "stb-b"):
        assert http("GET", f"{staff_edge.url}/streams/{meeting_id}/{segment}", headers={"X-Device-Id": device})[0] == 200
    wait_for("two homes watching", lambda: card_text(browser, "section.meeting .viewers") == "2", timeout_s=10)

    browser.find_element(By.CSS_SELECTOR, ".vote-text").send_keys("是否同意修建村口的桥？")
    browser.find_element(By.CSS_SELECTOR, ".open-vote-button").click()
    wait_text(browser, "#done", "表决已发起")
    question_id = str(browser.find_element(By.CSS_SELECTOR, ".tally").get_attribute("data-question"))
    for device, choice in (("stb-a", 1), ("stb-b", "不同意"), ("stb-c", 1)):
        # Votes count once per household: each TV is paired with its own, as staff do on the households page.
        staff_edge.run(pair_with_new_household(staff_edge.rt.db, staff_edge.residents.tv(device).device_id,
                                               f"{device} 户"))
        vote = {"id": str(uuid.uuid4()), "kind": "vote", "device_id": device,
                "body": {"question_id": question_id, "choice": choice}}
        assert staff_edge.residents.post(vote)[0] == 201
    wait_for("the live tally", lambda: card_text(browser, ".count[data-choice='同意']") == "2"
             and card_text(browser, ".count[data-choice='不同意']") == "1", timeout_s=10)
    save_screenshot(browser, "staff-meeting-vote")
    browser.find_element(By.CSS_SELECTOR, ".close-vote-button").click()
    wait_text(browser, "#done", "表决已结束")
    assert card_text(browser, ".voters") == "3"

    browser.find_element(By.CSS_SELECTOR, ".stop-button").click()
    wait_text(browser, "section.meeting .meeting-state", "已结束")

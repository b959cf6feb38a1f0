"""Acceptance 5 of issue 12: a resident types "路灯坏了" with the remote on the on-screen pinyin keyboard (standard
and iPanel key maps) and it arrives at the hub as those characters; on a phone the phone's own keyboard types."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from edge.tv.keymaps import KEYMAPS
from tests.integration.system import System, http, wait_for

from .conftest import device_headers, edge_url
from .remote import Remote, open_on_tv
from .rules import check_screen

WORDS = [("lu", "路"), ("deng", "灯"), ("huai", "坏"), ("le", "了")]


def _candidates(driver) -> list[str]:
    return [str(driver.find_element(By.ID, f"cand-{n}").find_element(By.CLASS_NAME, "kb-char").text)
            for n in range(1, 10)]


def _typed(driver) -> tuple[str, str]:
    return (str(driver.find_element(By.ID, "kb-words").text), str(driver.find_element(By.ID, "kb-pinyin").text))


def _spell(remote: Remote, letters: str) -> None:
    for letter in letters:
        remote.walk_to(f"kb-{letter}")
        remote.ok()


def _pick(remote: Remote, char: str, by_number_key: bool) -> None:
    """Page through the candidates until the character shows, then take it with its number or with arrows + OK."""
    for _ in range(7):
        shown = _candidates(remote.driver)
        if char in shown:
            n = shown.index(char) + 1
            if by_number_key:
                remote.digits(str(n))
            else:
                remote.walk_to(f"cand-{n}")
                remote.ok()
            return
        remote.walk_to("cand-next")
        remote.ok()
    raise AssertionError(f"{char} is not among the candidates")


def _at_hub(system: System, sid: str) -> list[dict[str, Any]]:
    return [s for s in system.hub_submissions("v1") if s["id"] == sid]


@pytest.mark.parametrize("middleware", ["standard", "ipanel"])
def test_a_resident_types_ludeng_huaile_with_the_remote_and_it_reaches_the_hub_as_those_characters(
        browser, tv_system: System, middleware: str):
    device = f"stb-words-{middleware}"
    remote = open_on_tv(browser, f"{edge_url(tv_system)}/tv/form/incident?mw={middleware}&device={device}",
                        "form-incident", middleware)
    remote.walk_to("choice-1")  # 道路损坏
    remote.ok()
    remote.walk_to("write")
    remote.ok()
    assert remote.focused_id() == "kb-a", "the keyboard opens with the focus on its first letter"
    for i, (pinyin, char) in enumerate(WORDS):
        _spell(remote, pinyin)
        wait_for(f"the candidates of {pinyin}", lambda: any(_candidates(browser)), timeout_s=60)
        if middleware == "standard" and char == "了":
            check_screen(browser, "tv-pinyin-keyboard")  # letters, candidates and the words so far, at 1280×720
        # Both ways of choosing, under either key map: number keys for some characters, arrows and OK for others.
        _pick(remote, char, by_number_key=i % 2 == 0)
    assert _typed(browser) == ("路灯坏了", "")

    _spell(remote, "x")  # a letter too many: back takes it away, and only it
    assert _typed(browser) == ("路灯坏了", "x")
    remote.back()
    assert _typed(browser) == ("路灯坏了", "") and remote.page() == "form-incident"
    remote.walk_to("kb-done")
    remote.ok()
    assert remote.focused_id() == "write"
    assert browser.find_element(By.ID, "words-shown").text == "路灯坏了"
    remote.walk_to("submit")
    remote.ok()
    remote.wait_page("submission")
    sid = browser.current_url.rstrip("/").rsplit("/", 1)[1]

    status, listed, _ = http("GET", f"{edge_url(tv_system)}/api/v1/submissions?device_id={device}",
                             headers=device_headers(browser))
    assert status == 200 and [s["body"] for s in listed["submissions"]] == [{"category": "道路损坏", "text": "路灯坏了"}]
    held = wait_for("the words at the hub", lambda: _at_hub(tv_system, sid), timeout_s=20)
    assert held[0]["kind"] == "incident" and held[0]["device_id"] == device
    assert held[0]["body"] == {"category": "道路损坏", "text": "路灯坏了"}


@pytest.mark.parametrize("middleware", sorted(set(KEYMAPS) - {"standard", "ipanel"}))
def test_the_keyboard_types_with_every_other_middlewares_key_map_too(browser, tv_system: System, middleware: str):
    device = f"stb-words-{middleware}"
    remote = open_on_tv(browser, f"{edge_url(tv_system)}/tv/form/consultation?mw={middleware}&device={device}",
                        "form-consultation", middleware)
    remote.walk_to("write")
    remote.ok()
    _spell(remote, "haox")
    remote.back()  # the x goes, the keyboard stays
    wait_for("the candidates of hao", lambda: "好" in _candidates(browser), timeout_s=60)
    _pick(remote, "好", by_number_key=True)
    _spell(remote, "le")
    _pick(remote, "了", by_number_key=False)
    assert _typed(browser) == ("好了", "")
    remote.back()  # nothing left to delete: back closes the keyboard
    assert remote.focused_id() == "write" and browser.find_element(By.ID, "words-shown").text == "好了"


@pytest.mark.parametrize("big", ["", "1"])
def test_every_key_of_the_keyboard_is_on_the_screen_with_normal_and_larger_text(browser, tv_system: System, big: str):
    remote = open_on_tv(browser, f"{edge_url(tv_system)}/tv/form/feedback?device=stb-keys&big={big}", "form-feedback")
    remote.walk_to("write")
    remote.ok()
    _spell(remote, "hao")
    wait_for("the candidates of hao", lambda: "好" in _candidates(browser), timeout_s=60)
    check_screen(browser, f"tv-pinyin-keys{'-big' if big else ''}")
    outside = browser.execute_script(
        "var out = [], all = document.getElementById('keyboard').getElementsByTagName('a');"
        "for (var i = 0; i < all.length; i++) { var r = all[i].getBoundingClientRect();"
        "  if (r.left < 64 || r.right > 1216 || r.top < 36 || r.bottom > 684) { out.push(all[i].id); } }"
        "return out;")
    assert outside == [], f"keys outside the safe area: {outside}"


def test_on_a_phone_the_phones_own_keyboard_types_the_words(phone_browser, tv_system: System):
    driver = phone_browser
    remote = open_on_tv(driver, f"{edge_url(tv_system)}/tv/form/feedback?device=phone-words", "form-feedback",
                        tv_size=False)
    assert not driver.find_element(By.ID, "write").is_displayed(), "no on-screen keyboard on a phone"
    remote.walk_to("choice-0")
    remote.ok()
    box = driver.find_element(By.ID, "words-phone")
    box.click()
    box.send_keys("村口路灯坏了3天")  # digits and Backspace belong to the text box, not to the remote's handler
    box.send_keys("\b")
    driver.find_element(By.ID, "submit").click()  # a tap, as on a phone
    remote.wait_page("submission")
    sid = driver.current_url.rstrip("/").rsplit("/", 1)[1]
    held = wait_for("the words at the hub", lambda: _at_hub(tv_system, sid), timeout_s=20)
    assert held[0]["body"] == {"category": "道路交通", "choice": 0, "text": "村口路灯坏了3"}

"""The rollouts page in headless chromium against a real hub holding the demo city (85 villages): the city admin
sees a rollout's waves awaiting approval, approves it with the page's button, and then sees the canary wave's
failure with the box's reason once the rollout has paused by itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

from hub.store import HubStore
from tests.browser import save_screenshot
from tests.hub.officials_page_kit import (
    ADMIN,
    CityHub,
    city_hub_fixture,  # noqa: F401 (the fixture `city_hub`)
    log_in,
    wait_text,
)

from .rollout_kit import box_reports, keep_release

REASON = "version 9.5 exited with code 1 before its health check passed"


def _canary_rolls_back(hub_dir: Path) -> None:
    """What the status poller stores once the canary's box reports the rollback."""
    async def report() -> None:
        store = HubStore(hub_dir / "hub.db")
        await store.open()
        try:
            await box_reports(store, "dongshan", "0.1.0", "rolled_back", target="9.5", last_error=REASON)
        finally:
            await store.close()

    asyncio.run(report())


def _reload_until(driver: webdriver.Chrome, css: str, text: str, timeout_s: float = 40) -> None:
    """The hub moves rollouts on every few seconds; the page shows it at the next load."""
    deadline = time.monotonic() + timeout_s
    while text not in driver.find_element(By.CSS_SELECTOR, css).text:
        assert time.monotonic() < deadline, f"{css} never showed {text!r}"
        time.sleep(1.0)
        driver.refresh()


def test_the_city_admin_approves_a_rollout_on_the_page_and_sees_the_canary_failure_with_its_reason(
        city_hub: CityHub, browser: webdriver.Chrome) -> None:
    keep_release(city_hub.data, "9.5")
    status, made = city_hub.api("POST", "/api/v1/rollouts", {"release": "9.5", "waves": "dongshan,10%,100%"})
    assert status == 201, made
    log_in(browser, city_hub.url, ADMIN)
    browser.find_element(By.LINK_TEXT, "升级批次").click()
    wait_text(browser, f"#rollout-{made['id']} .rollout-state", "待审批")
    waves = browser.find_elements(By.CSS_SELECTOR, f"#rollout-{made['id']} tr.wave")
    assert [w.find_element(By.CSS_SELECTOR, ".wave-state").text for w in waves] == ["等待中"] * 3
    assert "东山" in waves[0].find_element(By.CSS_SELECTOR, ".wave-villages").text  # the canary, by its name
    assert "已发送 0 / 9" in waves[1].text and "已发送 0 / 75" in waves[2].text  # 10 % of 84, rounded up

    browser.find_element(By.ID, f"approve-{made['id']}").click()
    wait_text(browser, "#rollout-done", "已审批")
    assert browser.find_element(By.CSS_SELECTOR, f"#rollout-{made['id']} .rollout-state").text == "进行中"
    assert "已发送 1 / 1" in browser.find_element(By.CSS_SELECTOR, f"#rollout-{made['id']} tr.wave").text

    _canary_rolls_back(city_hub.data)
    _reload_until(browser, f"#rollout-{made['id']} .rollout-state", "已暂停")
    section = browser.find_element(By.ID, f"rollout-{made['id']}").text
    assert REASON in section and "东山" in section
    assert browser.find_element(By.ID, f"resume-{made['id']}").is_displayed()
    save_screenshot(browser, "rollouts-paused")

"""Debian's chromium, headless, driven through Debian's chromedriver: the real browser for page tests.

Use the `browser` fixture (tests/conftest.py). Pages are opened at 1280×720, the TV resolution the rules use.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE_MIN_WINDOW = 500


@contextmanager
def chromium(width: int = 1280, height: int = 720) -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        # This machine's network is closed: without these, chromium keeps trying Google's hosts.
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--window-size={width},{height}", f"--user-data-dir={profile}",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    if width < PHONE_MIN_WINDOW:
        resize(driver, width, height)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def resize(driver: webdriver.Chrome, width: int, height: int) -> None:
    """The page's viewport at this size. Headless chromium keeps a window at least 500 px wide, so a phone's width
    (390 px) is emulated, as its developer tools do: the page lays out and is screenshot at the phone's real width."""
    if width < PHONE_MIN_WINDOW:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.set_window_size(width, height)


def save_screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Screenshots for review land in tests/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path

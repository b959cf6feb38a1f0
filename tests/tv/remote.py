"""A remote control for the browser tests: arrows, OK, back and digits as each middleware's key codes.

Keys that exist on a PC keyboard (37–40, 13, 8, 27, digits) go through selenium's ActionChains, as real key
presses. iPanel's arrows (1–4) and back (340) are no keyboard key, and WebDriver can only press keys it has a
code point for, so those are dispatched as a KeyboardEvent with keyCode/which set from JavaScript: the page
receives the same event an iPanel STB gives it.
"""

from __future__ import annotations

import time
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from edge.tv.keymaps import KEYMAPS

_KEYBOARD = {37: Keys.ARROW_LEFT, 38: Keys.ARROW_UP, 39: Keys.ARROW_RIGHT, 40: Keys.ARROW_DOWN, 13: Keys.ENTER,
             8: Keys.BACKSPACE, 27: Keys.ESCAPE}
_DISPATCH = """
var code = arguments[0];
var e = document.createEvent('Event');
e.initEvent('keydown', true, true);
Object.defineProperty(e, 'keyCode', {get: function () { return code; }});
Object.defineProperty(e, 'which', {get: function () { return code; }});
(document.activeElement || document.body).dispatchEvent(e);
"""


def tv_viewport(driver: webdriver.Chrome, width: int = 1280, height: int = 720) -> None:
    """Make the page area exactly the TV's 1280×720 (the window size alone leaves less, for browser chrome)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


class Remote:
    def __init__(self, driver: webdriver.Chrome, middleware: str = "standard") -> None:
        self.driver = driver
        self.middleware = middleware
        self.keys = KEYMAPS[middleware]

    def press(self, code: int) -> None:
        if code in _KEYBOARD:
            ActionChains(self.driver).send_keys(_KEYBOARD[code]).perform()
        else:
            self.driver.execute_script(_DISPATCH, code)
        time.sleep(0.05)  # let the page's handler and any repaint run, as a person's next press would

    def up(self) -> None:
        self.press(self.keys["up"][0])

    def down(self) -> None:
        self.press(self.keys["down"][0])

    def left(self) -> None:
        self.press(self.keys["left"][0])

    def right(self) -> None:
        self.press(self.keys["right"][0])

    def ok(self) -> None:
        self.press(self.keys["ok"][0])

    def back(self) -> None:
        self.press(self.keys["back"][0])

    def digits(self, text: str) -> None:
        for ch in text:
            ActionChains(self.driver).send_keys(ch).perform()
            time.sleep(0.03)

    # -- looking at the screen, as the person holding the remote does -------------------------------------------
    def focused_id(self) -> str:
        return str(self.driver.execute_script("var f = window.TV && TV.focused(); return f ? f.id : '';"))

    def page(self) -> str:
        return str(self.driver.execute_script("return document.body.getAttribute('data-page') || '';"))

    def walk_to(self, element_id: str, max_presses: int = 40) -> None:
        """Press arrows towards an element until it has the focus (the test looks where it is, as a person does)."""
        for _ in range(max_presses):
            if self.focused_id() == element_id:
                return
            where: Any = self.driver.execute_script(
                "var f = TV.focused(), a = f.getBoundingClientRect(), b = document.getElementById(arguments[0]);"
                "if (!b) { return null; } b = b.getBoundingClientRect();"
                "return [(b.left + b.right - a.left - a.right) / 2, (b.top + b.bottom - a.top - a.bottom) / 2,"
                "        parseFloat(getComputedStyle(f).outlineWidth), a.top >= -1 && a.bottom <= innerHeight + 1];",
                element_id)
            assert where is not None, f"no element {element_id} on {self.page()}"
            dx, dy, ring, on_screen = where
            # Every step of every journey: the focus is a visible ring, on the screen.
            assert ring >= 4 and on_screen, f"focus on {self.focused_id()} is not visible (ring {ring} px)"
            if abs(dy) > 8 and abs(dy) >= abs(dx) * 0.5:
                self.down() if dy > 0 else self.up()
            else:
                self.right() if dx > 0 else self.left()
        raise AssertionError(f"could not reach {element_id} with {max_presses} presses; focus is on {self.focused_id()}")

    def wait_page(self, name: str, timeout_s: float = 20.0) -> None:
        """Until the TV shows page `name` with its device registered; generous, as a full run shares two cores
        with other chromiums (a first visit is two page loads: registration reloads the page at once)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                # TV.token: the page's device is registered (a first visit registers and reloads at once).
                if self.page() == name and self.driver.execute_script(
                        "return !!(window.TV && TV.focused && TV.focused() && TV.token);"):
                    return
            except Exception:  # noqa: BLE001 - the page is being replaced; ask again
                pass
            time.sleep(0.05)
        raise AssertionError(f"expected page {name}, still on {self.page()!r} at {self.driver.current_url}")


def open_on_tv(driver: webdriver.Chrome, url: str, page: str, middleware: str = "standard",
               tv_size: bool = True) -> Remote:
    """A TV at 1280×720 (or a phone, at its own size) showing `url`, which names the device and the key map."""
    if tv_size:
        tv_viewport(driver)
    driver.get(url)
    remote = Remote(driver, middleware)
    remote.wait_page(page)
    return remote


def screen_text(driver: webdriver.Chrome) -> str:
    """What the screen says now; a page that reloads itself when a state changes may be mid-way: ask again then."""
    try:
        return str(driver.execute_script("var c = document.getElementById('content'); return c ? c.innerText : '';"))
    except Exception:  # noqa: BLE001 - the page is being replaced
        return ""

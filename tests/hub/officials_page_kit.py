"""A real hub for the officials' page tests: `village-hub init`, the demo city's org sheet by `org import`, its
officials by `user add`, then `village-hub serve` on 127.0.0.1, and what a person does in chromium to log in.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from deploy.local_processes import Service, free_port, hub_service, run_command
from deploy.sample_city import DEMO_PASSWORD, OFFICIALS, write_org_sheet
from tests.integration.system import http

EDITOR = "qingxi-bianji"  # 青溪镇 editor
REVIEWER = "qingxi-shenhe"  # 青溪镇 reviewer
OTHER_REVIEWER = "baihe-shenhe"  # a reviewer of 白河镇
ADMIN = "shi-guanli"


@dataclass
class CityHub:
    url: str
    data: Path
    token: str

    def api(self, method: str, path: str, payload: Any = None, token: str | None = "") -> tuple[int, Any]:
        """A JSON request with the admin token, another bearer token, or (token None) none."""
        status, body, _ = http(method, self.url + path, payload, token=self.token if token == "" else token)
        return status, body

    def login_token(self, user: str) -> str:
        status, body = self.api("POST", "/api/v1/login", {"user": user, "password": DEMO_PASSWORD}, token=None)
        assert status == 200, body
        return str(body["token"])


@pytest.fixture(name="city_hub")
def city_hub_fixture(tmp_path: Path) -> Iterator[CityHub]:
    data = tmp_path / "hub"
    run_command("village-hub", "init", "--data", str(data), "--name", "示范市农村社区公共服务平台")
    run_command("village-hub", "org", "import", "--data", str(data), str(write_org_sheet(tmp_path / "org.csv", {})))
    people = [*[(u, n, r, s) for u, n, r, s, _ in OFFICIALS], (OTHER_REVIEWER, "周强", "reviewer", "town:baihe")]
    for user, name, roles, scope in people:
        run_command("village-hub", "user", "add", "--data", str(data), "--user", user, "--role", roles,
                    "--scope", scope, "--name", name, stdin=DEMO_PASSWORD + "\n")
    hub: Service = hub_service(data, free_port()).start(ready_path="/api/v1/trust")
    try:
        yield CityHub(hub.url, data, (data / "admin.token").read_text().strip())
    finally:
        hub.stop()


def wait_text(driver: webdriver.Chrome, css: str, text: str, timeout_s: float = 30) -> None:
    """Generous: two cores are shared by several test runs, and a page's script may wait its turn."""
    WebDriverWait(driver, timeout_s).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def wait_done_on(driver: webdriver.Chrome, url: str, text: str) -> None:
    """An action that moves on to another page: the page arrives and says the action's message there too."""
    WebDriverWait(driver, 30).until(EC.url_to_be(url))
    wait_text(driver, "#message", text)


def log_in(driver: webdriver.Chrome, base: str, user: str) -> None:
    driver.get(base + "/admin/login")
    driver.find_element(By.ID, "login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.ID, "login-button").click()
    wait_text(driver, "#whoami", user)


def log_out(driver: webdriver.Chrome) -> None:
    driver.find_element(By.ID, "logout").click()
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "login-form")))


def requests_elsewhere(driver: webdriver.Chrome, origin: str) -> list[str]:
    """Every URL the page (and its same-origin frames) fetched that is not on the hub's origin."""
    urls: list[str] = driver.execute_script("""
        var wins = [window], out = [];
        var frames = document.querySelectorAll('iframe');
        for (var i = 0; i < frames.length; i++) { wins.push(frames[i].contentWindow); }
        wins.forEach(function (w) {
          w.performance.getEntries().forEach(function (e) { if (e.name.indexOf('://') > 0) out.push(e.name); });
        });
        return out;""")
    return [u for u in urls if not u.startswith(origin + "/")]


def tiny_png(path: Path) -> Path:
    """A 2×2 red PNG, made here so the test needs no file from outside."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path.write_bytes(png)
    return path

"""Acceptance 2 (and 6): an emergency notice published at the hub interrupts an open TV page within 5 s of
reaching the edge, without a reload, over each transport; only OK takes it away; each device's view is logged."""

from __future__ import annotations

import sqlite3
import time

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.device_kit import register, use_device
from tests.integration.system import System, http, wait_for

from .conftest import edge_url, withdraw_and_wait
from .remote import Remote, tv_viewport
from .rules import check_screen


def _ack_everything(system: System, device: str) -> str:
    """Register the TV and start from a clean screen: alerts of earlier tests are acknowledged for this device.
    Returns its token."""
    tv = register(edge_url(system), device)
    status, body, _ = http("GET", f"{edge_url(system)}/api/v1/alerts?device={device}", headers=tv.headers)
    assert status == 200
    for alert in body["alerts"]:
        assert http("POST", f"{edge_url(system)}/api/v1/alerts/{alert['id']}/ack", {"device_id": device},
                    headers=tv.headers)[0] == 200
    return tv.token


def _alert_showing(driver) -> str:
    return str(driver.execute_script(
        "var a = document.getElementById('alert');"
        "return a.className.indexOf('off') < 0 ? document.getElementById('alert-title').textContent : '';"))


def _log_rows(system: System, notice_id: str) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(f"file:{system.edge_dir('v1') / 'edge.db'}?mode=ro", uri=True) as conn:
        return list(conn.execute("SELECT device_id, shown_at, acked_at FROM alert_log WHERE notice_id = ?", (notice_id,)))


@pytest.mark.parametrize("transport,middleware", [("sse", "standard"), ("longpoll", "ipanel"), ("shortpoll", "standard")])
def test_an_emergency_from_the_hub_interrupts_an_open_page_within_5_s_and_goes_away_with_ok(
        browser, tv_system: System, transport: str, middleware: str, request: pytest.FixtureRequest):
    device = f"stb-alert-{transport}"
    use_device(browser, edge_url(tv_system), _ack_everything(tv_system, device))
    tv_viewport(browser)
    browser.get(f"{edge_url(tv_system)}/tv/area/community?device={device}&mw={middleware}&alerts={transport}")
    remote = Remote(browser, middleware)
    remote.wait_page("area-community")
    wait_for("the alert channel", lambda: browser.execute_script("return TV.alertMode") == transport, timeout_s=10)
    browser.execute_script("window.stillTheSamePage = true;")
    before = remote.focused_id()

    title = f"山洪预警（{transport}）：请立即转移到高处"
    nid = tv_system.publish(title, "city", area="safety", priority="emergency")
    request.addfinalizer(lambda: withdraw_and_wait(tv_system, nid))  # other TV tests must not see this alert
    wait_for("the emergency at the edge", lambda: any(
        n["id"] == nid for n in http("GET", edge_url(tv_system) + "/api/v1/notices?area=safety")[1]["notices"]),
        timeout_s=20, every_s=0.1)
    reached = time.monotonic()
    WebDriverWait(browser, 5, poll_frequency=0.1).until(lambda d: _alert_showing(d) == title)
    shown_after_s = time.monotonic() - reached
    assert browser.execute_script("return window.stillTheSamePage === true"), "the page was reloaded"
    if transport == "sse":
        check_screen(browser, "tv-alert")

    remote.back()  # back, arrows and digits do not take an emergency away
    remote.down()
    remote.digits("5")
    assert _alert_showing(browser) == title and remote.page() == "area-community"
    wait_for("the showing logged", lambda: _log_rows(tv_system, nid), timeout_s=5)

    remote.ok()
    WebDriverWait(browser, 5).until(lambda d: _alert_showing(d) == "")
    assert remote.focused_id() == before
    rows = wait_for("the acknowledgement logged", lambda: [r for r in _log_rows(tv_system, nid) if r[2]], timeout_s=5)
    assert rows[0][0] == device

    browser.refresh()  # acknowledged on this device: it does not come back
    remote.wait_page("area-community")
    time.sleep(1.0)
    assert _alert_showing(browser) == ""
    print(f"{transport}: alert shown {shown_after_s:.2f} s after the notice reached the edge")


def test_the_alert_routes_refuse_bad_input_with_a_clear_error(tv_system: System):
    base = edge_url(tv_system)
    status, body, _ = http("GET", base + "/api/v1/alerts?device=" + "x" * 65)
    assert status == 400 and body["error"] == "bad_device"
    status, body, _ = http("GET", base + "/api/v1/alerts/wait?device=stb-1&version=soon")
    assert status == 400 and body["error"] == "bad_version"
    status, body, _ = http("POST", base + "/api/v1/alerts/no-such-notice/ack", {"device_id": "stb-1"})
    assert status == 401 and body["error"] == "device_token_required"
    tv = register(base)
    status, body, _ = http("POST", base + "/api/v1/alerts/no-such-notice/ack", {"device_id": tv.device_id},
                           headers=tv.headers)
    assert status == 404 and body["error"] == "not_an_alert"
    status, body, _ = http("POST", base + "/api/v1/alerts/x/ack", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and "error" in body
    status, body, _ = http("POST", base + "/api/v1/alerts/x/ack", {"device_id": "stb-1", "pad": "x" * 5000})
    assert status == 413 and "error" in body
    normal = tv_system.publish("普通通知不是警报", "city")
    wait_for("the notice", lambda: http("GET", base + "/api/v1/notices")[1]["notices"])
    status, body, _ = http("POST", f"{base}/api/v1/alerts/{normal}/ack", {"device_id": tv.device_id},
                           headers=tv.headers)
    assert status == 404

"""Votes by remote in a village meeting (社区会议): staff open a question on the staff page, the TV watching the
meeting shows it under the picture (no pop-up), a number key votes, and the vote reaches the hub."""

from __future__ import annotations

import asyncio
import re

import aiohttp
from selenium.webdriver.common.by import By

from deploy.local_processes import run_command
from tests.integration.system import System, http, wait_for

from .conftest import device_headers, edge_url
from .remote import Remote, tv_viewport
from .rules import check_screen

PASSWORD = "村里的密码-2024"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _staff_opens_a_vote(base: str, pairing_code: str) -> tuple[str, str]:
    """Through the real staff forms: log in, pair the TV with a new household (votes count per household), schedule
    and start a meeting, open a question; returns (meeting, question)."""
    # unsafe=True: the jar keeps cookies for an IP address such as 127.0.0.1 too.
    async with aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:

        async def csrf(path: str) -> str:
            async with s.get(path) as resp:
                match = _CSRF.search(await resp.text())
                assert match, path
                return match.group(1)

        async def post(path: str, form: dict[str, str]) -> str:
            form["csrf"] = await csrf("/staff/meetings" if path != "/staff/login" else "/staff/login")
            async with s.post(path, data=form, allow_redirects=False) as resp:
                assert resp.status in (302, 303), await resp.text()
                return resp.headers["Location"]

        await post("/staff/login", {"username": "clerk", "password": PASSWORD})
        await post("/staff/households", {"name": "会议投票户", "address": "村东头"})
        async with s.get("/staff/households") as resp:
            page = await resp.text()
        household = re.findall(r'action="/staff/households/([^/"]+)/pair"', page[page.index("会议投票户"):])[0]
        await post(f"/staff/households/{household}/pair", {"code": pairing_code})
        meeting = (await post("/staff/meetings", {"title": "村民代表大会", "agenda": "村道修缮"})).rsplit("#m-", 1)[1]
        await post(f"/staff/meetings/{meeting}/start", {})
        location = await post(f"/staff/meetings/{meeting}/vote", {"text": "是否同意村道修缮方案？", "choices": "同意\n反对\n弃权"})
        return meeting, location.split("question=", 1)[1].split("#", 1)[0]


def test_a_meeting_question_shows_under_the_live_picture_and_a_number_key_votes(browser, tv_system: System):
    run_command("village-edge", "staff", "add", "--data", str(tv_system.edge_dir("v1")), "--user", "clerk",
                "--role", "admin", stdin=PASSWORD + "\n")
    tv_viewport(browser)
    device = "stb-meeting-1"
    browser.get(f"{edge_url(tv_system)}/tv/area/meetings?device={device}")
    remote = Remote(browser)
    remote.wait_page("area-meetings")
    status, pairing, _ = http("GET", f"{edge_url(tv_system)}/api/v1/pairing", headers=device_headers(browser))
    assert status == 200 and pairing["device_id"] == device
    meeting, question = asyncio.run(_staff_opens_a_vote(edge_url(tv_system), pairing["code"]))
    browser.refresh()  # the list of meetings is read when the page opens
    remote.wait_page("area-meetings")
    wait_for("the meeting in the list", lambda: browser.find_elements(By.ID, f"stream-{meeting}"), timeout_s=10)
    remote.walk_to(f"stream-{meeting}")
    remote.ok()
    remote.wait_page("live")
    wait_for("the question", lambda: "是否同意村道修缮方案" in browser.find_element(By.ID, "content").text, timeout_s=10)
    remote.walk_to("vote-2")
    check_screen(browser, "tv-meeting-vote")
    remote.digits("1")
    wait_for("the vote taken", lambda: "您已投：同意" in browser.find_element(By.ID, "vote-status").text, timeout_s=10)
    held = wait_for("the vote at the hub", lambda: [
        s for s in tv_system.hub_submissions("v1") if s["kind"] == "vote" and s["device_id"] == device], timeout_s=20)
    assert held[0]["body"] == {"question_id": question, "choice": 1}
    remote.back()
    remote.wait_page("area-meetings")

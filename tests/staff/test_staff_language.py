"""Simplified Chinese first, English through the catalog: every message the staff page shows has a translation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edge.staff import pages_inbox, pages_meetings, pages_village
from edge.staff.catalog_en import EN
from edge.staff.village_notices import AREA_NAMES

from .staff_http import login

TEMPLATES = Path(pages_inbox.__file__).parent / "templates"
SOURCES = Path(pages_inbox.__file__).parent
_CALL = re.compile(r'_\(\s*"([^"]+)"\s*\)')
_NAMES = re.compile(r'"[a-z_]+": "([^"]+)"')  # the kind/state/role/priority names templates translate by key
_TITLE = re.compile(r'title="([^"]+)"')


def messages_in_use() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text("utf-8")
        found |= set(_CALL.findall(text)) | set(_NAMES.findall(text))
    for path in SOURCES.glob("*.py"):
        found |= set(_TITLE.findall(path.read_text("utf-8")))
    for pages in (pages_inbox, pages_village, pages_meetings):
        found |= set(pages.DONE_MESSAGES.values())
    found |= set(AREA_NAMES.values())
    return found


def test_every_message_of_the_staff_page_has_an_english_translation():
    used = messages_in_use()
    assert len(used) > 100  # the scan itself finds the messages
    missing = sorted(m for m in used if m not in EN)
    assert not missing, f"add these to edge/staff/catalog_en.py: {missing}"


async def test_the_pages_speak_chinese_first_and_english_once_switched(staff_client: Any):
    await login(staff_client)
    page = await (await staff_client.get("/staff/inbox")).text()
    assert "居民事项" in page and 'lang="zh-CN"' in page
    resp = await staff_client.get("/staff/lang?to=en&next=/staff/inbox")
    page = await resp.text()
    assert "Residents&#39; submissions" in page and 'lang="en"' in page and "居民事项" not in page
    resp = await staff_client.get("/staff/lang?to=en&next=https://elsewhere.example/")
    assert resp.url.path == "/staff/"


def test_times_are_shown_on_the_villages_clock_not_in_utc():
    from edge.staff.site import village_time

    assert village_time("2030-03-01T20:05:00.123456Z") == "2030-03-02 04:05"
    assert village_time("2030-03-01T08:05:00+00:00") == "2030-03-01 16:05"
    assert village_time("") == "" and village_time("not a time") == "not a time"

"""Simplified Chinese first, English once switched: both catalogs hold every key the staff page uses, and no other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edge.residents.inbox import STATES
from edge.staff import pages_inbox, pages_meetings, pages_village
from edge.staff.accounts import ROLES
from edge.staff.web import TEXTS
from protocol.records import AREAS, PRIORITIES, SUBMISSION_KINDS

from .catalog_checks import check_catalogs
from .staff_http import login

STAFF_DIR = Path(pages_inbox.__file__).parent
_LITERAL = re.compile(r't\(\s*"([a-z_]+\.[a-z0-9_.]+)"\s*\)')
_BUILT = re.compile(r't\(\s*"([a-z_]+)\."\s*~')  # t("kind." ~ s.kind): the key is made from a value
_TITLE = re.compile(r'title="([a-z_]+\.[a-z0-9_.]+)"')
# What each made-up key can end in: every value the pages can hand to the template.
BUILT_FROM = {
    "kind": SUBMISSION_KINDS,
    "state": STATES,
    "role": ROLES,
    "area": AREAS,
    "priority": PRIORITIES,
    "meeting_state": ("scheduled", "live", "ended"),
    "done": (*pages_inbox.DONE, *pages_meetings.DONE, *pages_village.DONE),
}


def keys_in_use() -> set[str]:
    used: set[str] = set()
    for path in (STAFF_DIR / "templates").glob("*.html"):
        text = path.read_text("utf-8")
        used |= set(_LITERAL.findall(text))
        for prefix in _BUILT.findall(text):
            assert prefix in BUILT_FROM, f"{path.name} builds keys under {prefix}.: add what they end in to BUILT_FROM"
            used |= {f"{prefix}.{value}" for value in BUILT_FROM[prefix]}
    for path in STAFF_DIR.glob("*.py"):
        used |= set(_TITLE.findall(path.read_text("utf-8")))
    return used


def test_both_catalogs_hold_every_key_the_staff_page_uses_and_no_key_goes_unused():
    keys = check_catalogs(TEXTS)
    used = keys_in_use()
    assert len(used) > 100  # the scan itself finds the keys
    assert not used - keys, f"add these to edge/staff/catalogs/*.json: {sorted(used - keys)}"
    unused = {k for k in keys - used if not k.startswith("error.")}  # error titles: edge/web/errors.py picks them
    assert not unused, f"no page uses these; remove them from edge/staff/catalogs/*.json: {sorted(unused)}"


def test_a_catalog_missing_a_key_the_other_language_has_fails_the_check(tmp_path: Path):
    from edge.web.i18n import Catalogs

    for lang, body in (("zh-CN", '{"a.b": "甲", "a.c": "乙"}'), ("en", '{"a.b": "A"}')):
        (tmp_path / f"{lang}.json").write_text(body, encoding="utf-8")
    try:
        check_catalogs(Catalogs(tmp_path))
    except AssertionError as exc:
        assert "a.c" in str(exc)
    else:
        raise AssertionError("a catalog lacking a key passed the check")


async def test_the_pages_speak_chinese_first_and_english_once_switched(staff_client: Any):
    await login(staff_client)
    page = await (await staff_client.get("/staff/inbox")).text()
    assert "居民事项" in page and 'lang="zh-CN"' in page
    resp = await staff_client.get("/staff/lang?to=en&next=/staff/inbox")
    page = await resp.text()
    assert "Residents&#39; submissions" in page and 'lang="en"' in page and "居民事项" not in page
    assert "village admin" in page  # the role, from a key made of its value
    resp = await staff_client.get("/staff/lang?to=zh-CN&next=/staff/inbox")
    assert "居民事项" in await resp.text()
    resp = await staff_client.get("/staff/lang?to=en&next=https://elsewhere.example/")
    assert resp.url.path == "/staff/"


def test_times_are_shown_on_the_villages_clock_not_in_utc():
    from edge.staff.web import village_time

    assert village_time("2030-03-01T20:05:00.123456Z") == "2030-03-02 04:05"
    assert village_time("2030-03-01T08:05:00+00:00") == "2030-03-01 16:05"
    assert village_time("") == "" and village_time("not a time") == "not a time"

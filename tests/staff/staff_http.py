"""Helpers for HTTP-level staff tests: log in through the real form, read the CSRF token off a page."""

from __future__ import annotations

import re
from typing import Any

from .conftest import PASSWORD

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def login(client: Any, user: str = "admin1", password: str = PASSWORD) -> Any:
    """Log in through the form; returns the response after the redirect (the dashboard when it worked)."""
    page = await client.get("/staff/login")
    token = csrf_of(await page.text())
    return await client.post("/staff/login", data={"username": user, "password": password, "csrf": token})


async def page_csrf(client: Any, path: str = "/staff/") -> str:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    return csrf_of(await resp.text())

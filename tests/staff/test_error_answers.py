"""One error middleware for the whole edge: scripts and set-top boxes get `{error, detail}`, people get a page in
the frame they were using (Chinese first), and a bug answers 500 with a sentence while its traceback goes to the
log only."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from edge.runtime import RUNTIME

from .staff_http import login

LEAKS = ("Traceback", "OperationalError", "no such table", "sqlite", 'File "')


async def break_table(client: Any, table: str) -> None:
    """A damaged database, the realistic way a handler meets an error nobody planned for."""
    async with client.app[RUNTIME].db.write() as conn:
        await conn.execute(f"DROP TABLE {table}")


async def test_a_refusal_on_a_staff_page_is_a_page_and_on_the_staff_api_is_json(staff_client: Any):
    await login(staff_client)
    resp = await staff_client.get("/staff/inbox/not-a-submission")
    page = await resp.text()
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "找不到" in page and "这个事项不在本村的记录里" in page and 'id="logout"' in page  # in the staff frame
    resp = await staff_client.get(f"/staff/api/inbox/{uuid.uuid4()}")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"
    await staff_client.get("/staff/lang?to=en&next=/staff/")
    resp = await staff_client.get("/staff/no-such-page")
    assert resp.status == 404 and "Not found" in await resp.text()


async def test_a_refusal_on_a_tv_page_is_a_tv_page_with_a_way_home(staff_client: Any):
    resp = await staff_client.get("/tv/no-such-screen")
    page = await resp.text()
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "找不到" in page and 'href="/tv/"' in page and 'id="nav-back"' in page
    resp = await staff_client.get("/api/v1/no-such-thing")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"


async def test_a_bug_in_an_api_handler_is_a_500_in_the_contracts_shape_and_a_log_line(
    staff_client: Any, caplog: pytest.LogCaptureFixture
):
    await break_table(staff_client, "notices")
    with caplog.at_level(logging.ERROR, logger="edge.web.errors"):
        resp = await staff_client.get("/api/v1/notices")
        text = await resp.text()
        body = await resp.json()
    assert resp.status == 500 and body["error"] == "internal_error"
    assert "出错了" in body["detail"] and "log" in body["detail"]
    assert not any(leak in text for leak in LEAKS)
    logged = [r for r in caplog.records if "GET /api/v1/notices failed" in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log, where the technician looks


async def test_a_bug_behind_a_page_is_a_readable_500_page_for_staff_and_for_the_tv(
    staff_client: Any, caplog: pytest.LogCaptureFixture
):
    await login(staff_client)
    await break_table(staff_client, "households")
    await break_table(staff_client, "notices")
    with caplog.at_level(logging.ERROR, logger="edge.web.errors"):
        staff = await staff_client.get("/staff/households")
        tv = await staff_client.get("/tv/area/community")
    for resp in (staff, tv):
        page = await resp.text()
        assert resp.status == 500 and resp.content_type == "text/html", resp.url
        assert "出错了" in page and "这台设备处理请求时出错了" in page
        assert not any(leak in page for leak in LEAKS), resp.url
    assert 'id="logout"' in await staff.text() and 'id="nav-back"' in await tv.text()
    assert sum("failed" in r.getMessage() and r.exc_info is not None for r in caplog.records) == 2

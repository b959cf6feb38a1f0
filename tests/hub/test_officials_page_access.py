"""Who opens which page of the officials' site: without a session every page sends the browser to the login; a
page an official's roles or scope do not reach is a 403 page with a Chinese sentence; the admin token reads
without acting; and every page tells the browser to load nothing from anywhere but the hub."""

from __future__ import annotations

import re

from .kit import HubKit
from .official_kit import PASSWORD, make_official, two_towns

PAGES = ["/admin/notices/new", "/admin/review", "/admin/villages", "/admin/streams", "/admin/accounts",
         "/admin/audit", "/admin/password"]


async def _page_login(kit: HubKit, user: str) -> None:
    resp = await kit.client.post("/admin/login", data={"user": user, "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 303, await resp.text()


async def test_without_a_session_every_page_sends_the_browser_to_the_login(kit: HubKit) -> None:
    for path in PAGES:
        resp = await kit.client.get(path, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/admin/login", path
    login = await kit.client.get("/admin/login")
    assert login.status == 200 and 'name="password"' in await login.text()


async def test_a_town_editor_gets_a_chinese_refusal_for_the_pages_of_other_roles_and_other_towns(kit: HubKit) -> None:
    await two_towns(kit)
    await make_official(kit, "ed", "editor", "town:east", name="李娜")
    await make_official(kit, "west-ed", "editor", "town:west")
    await _page_login(kit, "west-ed")
    west = await (await kit.client.post("/api/v1/notices", headers={"X-CSRF-Token": await _csrf(kit)}, json={
        "title": "河西镇的通知", "body": "只发河西镇。", "area": "community", "scope": "village:w1"})).json()
    await _page_login(kit, "ed")
    for path, sentence in (("/admin/accounts", "只有管理员"), ("/admin/audit", "只有管理员"),
                           ("/admin/review", "审核员"), (f"/admin/review/{west['id']}", "审核员"),
                           (f"/admin/preview/{west['id']}", "不在您的权限范围"),
                           (f"/admin/notices/{west['id']}/edit", "不在您的权限范围")):
        resp = await kit.client.get(path)
        text = await resp.text()
        assert resp.status == 403 and sentence in text and resp.content_type == "text/html", path
    editor = await (await kit.client.get("/admin/notices/new")).text()
    offered = set(re.findall(r'name="target" value="([^"]+)"', editor))
    assert offered == {"town:east", "village:e1", "village:e2", "village:e3"}


async def _csrf(kit: HubKit) -> str:
    me = await (await kit.client.get("/api/v1/me")).json()
    return str(me["csrf_token"])


async def test_the_admin_token_reads_the_pages_but_is_offered_no_action(kit: HubKit) -> None:
    await two_towns(kit)
    resp = await kit.client.post("/admin/login", data={"token": kit.token}, allow_redirects=False)
    assert resp.status == 303
    overview = await (await kit.client.get("/admin/")).text()
    assert "管理页面" in overview and "只能查看" in overview and "东庄村" in overview
    assert "/admin/notices/new" not in overview  # no editor in its menu
    accounts = await (await kit.client.get("/admin/accounts")).text()
    assert 'id="user-form"' not in accounts and "城关镇" in accounts
    assert (await kit.client.get("/admin/notices/new")).status == 403
    assert kit.token not in overview + accounts


async def test_every_page_allows_the_browser_nothing_but_the_hubs_own_origin(kit: HubKit) -> None:
    await two_towns(kit)
    await make_official(kit, "boss", "admin,editor,reviewer,viewer", "city")
    await _page_login(kit, "boss")
    for path in ["/admin/", *PAGES]:
        resp = await kit.client.get(path)
        assert resp.status == 200, path
        policy = resp.headers["Content-Security-Policy"]
        sources = {word for part in policy.split(";") for word in part.split()[1:]}
        assert sources <= {"'none'", "'self'", "data:"}, (path, policy)
        html = await resp.text()
        assert not re.findall(r'(?:src|href)="(?:https?:)?//', html), path  # nothing fetched from another host

"""Who may use the staff page: sessions, CSRF on every form, the lockout, roles, and the CLI that makes accounts."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from deploy.local_processes import BIN
from edge.runtime import RUNTIME
from edge.staff.accounts import LOCK_S, MAX_FAILURES, LoginRefused, add_or_reset, authenticate
from tests.device_kit import register_with

from .conftest import PASSWORD, add_account, provision
from .staff_http import login, page_csrf

PUBLIC = {("GET", "/staff/login"), ("POST", "/staff/login"), ("GET", "/staff/lang")}


def staff_routes(app: web.Application) -> list[tuple[str, str]]:
    """Every (method, path) the mounted /staff sub-application answers, with placeholders filled in."""
    out = []
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            for route in resource.get_info()["app"].router.routes():
                if route.method == "HEAD":
                    continue
                path = route.resource.canonical if route.resource else ""
                path = path.replace("{id}", str(uuid.uuid4())).replace("{device_id}", "stb-1")
                out.append((route.method, path))
    return out


async def test_no_staff_page_or_staff_api_answers_without_a_session(staff_client: Any):
    routes = staff_routes(staff_client.app)
    assert len(routes) >= 15, routes  # the enumeration itself works
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        resp = await staff_client.request(method, path, allow_redirects=False, data={"csrf": "x", "text": "hi"})
        text = await resp.text()
        if method == "GET" and "/api/" not in path:
            assert resp.status == 302 and resp.headers["Location"].startswith("/staff/login"), (method, path)
        else:
            assert resp.status == 401, (method, path, resp.status)
            assert (await resp.json())["error"] == "login_required"
        assert "csrf" not in text and "测试村" not in text, (method, path)


async def test_a_forged_session_cookie_is_no_session(staff_client: Any):
    staff_client.session.cookie_jar.update_cookies({"vn_staff": "made-up-token"})
    resp = await staff_client.get("/staff/api/dashboard")
    assert resp.status == 401


async def test_login_sets_an_httponly_samesite_cookie_and_opens_the_dashboard(staff_client: Any):
    page = await staff_client.get("/staff/login")
    token = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    resp = await staff_client.post("/staff/login", allow_redirects=False,
                                   data={"username": "admin1", "password": PASSWORD, "csrf": token})
    assert resp.status == 303 and resp.headers["Location"] == "/staff/"
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("vn_staff="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    dashboard = await staff_client.get("/staff/")
    assert dashboard.status == 200 and "与城市平台的专线" in await dashboard.text()


async def test_a_login_post_without_the_form_token_is_refused(staff_client: Any):
    resp = await staff_client.post("/staff/login", data={"username": "admin1", "password": PASSWORD})
    assert resp.status == 403
    assert "表单已过期" in await resp.text()
    assert (await staff_client.get("/staff/api/dashboard")).status == 401


async def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(staff_client: Any):
    await login(staff_client)
    notice = {"title": "停电通知", "body": "明天停电", "area": "community", "priority": "normal"}
    resp = await staff_client.post("/staff/notices", data=notice)
    assert resp.status == 403 and "没有做任何改动" in await resp.text()
    resp = await staff_client.post("/staff/notices", data={**notice, "csrf": "someone-elses-token"})
    assert resp.status == 403
    assert await staff_client.app[RUNTIME].db.fetchvalue("SELECT COUNT(*) FROM village_notices") == 0
    resp = await staff_client.post("/staff/notices", data={**notice, "csrf": await page_csrf(staff_client)})
    assert resp.status == 200 and "通知已发布" in await resp.text()
    assert await staff_client.app[RUNTIME].db.fetchvalue("SELECT COUNT(*) FROM village_notices") == 1


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(staff_client: Any):
    for attempt in range(MAX_FAILURES):
        resp = await login(staff_client, "staff1", f"wrong-{attempt}")
        assert resp.status == 401 and "用户名或密码不对" in await resp.text()
    resp = await login(staff_client, "staff1", PASSWORD)
    assert resp.status == 401 and "已被锁定" in await resp.text()
    assert (await staff_client.get("/staff/api/dashboard")).status == 401
    # Another account is not affected.
    assert (await login(staff_client, "admin1", PASSWORD)).status == 200
    # The reset `village-edge staff add` does unlocks it.
    await add_or_reset(staff_client.app[RUNTIME].db, "staff1", "staff", "a-new-password")
    resp = await login(staff_client, "staff1", "a-new-password")
    assert resp.status == 200 and "staff1" in await resp.text()


async def test_a_lock_ends_after_its_time(staff_client: Any):
    db = staff_client.app[RUNTIME].db
    now = time.time()
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginRefused):
            await authenticate(db, "staff1", "wrong-one", now=now)
    with pytest.raises(LoginRefused) as refused:
        await authenticate(db, "staff1", PASSWORD, now=now + LOCK_S - 60)
    assert refused.value.code == "locked"
    assert (await authenticate(db, "staff1", PASSWORD, now=now + LOCK_S + 1)).role == "staff"


async def test_the_pairing_code_refuses_a_bad_device_id_and_is_stable_per_device(staff_client: Any):
    one, two = await register_with(staff_client, "stb-1"), await register_with(staff_client, "stb-2")
    for query in ("?device_id=", "?device_id=" + "x" * 65, "?device_id=a%20b%2F..%2F"):
        resp = await staff_client.get("/api/v1/pairing" + query, headers=one.headers)
        body = await resp.json()
        assert resp.status == 400 and body["error"] == "bad_device_id" and body["detail"], query
    resp = await staff_client.get("/api/v1/pairing?device_id=stb-1")  # only the TV itself may ask for its code
    assert resp.status == 401 and (await resp.json())["error"] == "device_token_required"
    first = await (await staff_client.get("/api/v1/pairing?device_id=stb-1", headers=one.headers)).json()
    again = await (await staff_client.get("/api/v1/pairing", headers=one.headers)).json()
    other = await (await staff_client.get("/api/v1/pairing?device_id=stb-2", headers=two.headers)).json()
    assert first["code"] == again["code"] != other["code"] and first["code"].isdigit() and len(first["code"]) == 6


async def test_an_unknown_user_and_a_wrong_password_read_the_same(staff_client: Any):
    unknown = await login(staff_client, "nobody", "whatever-1")
    wrong = await login(staff_client, "admin1", "whatever-1")
    assert unknown.status == wrong.status == 401
    assert "用户名或密码不对" in await unknown.text() and "用户名或密码不对" in await wrong.text()


async def test_logout_ends_the_session(staff_client: Any):
    await login(staff_client)
    resp = await staff_client.post("/staff/logout", data={"csrf": await page_csrf(staff_client)})
    assert resp.status == 200 and "村务管理登录" in await resp.text()
    assert (await staff_client.get("/staff/api/dashboard")).status == 401


async def test_a_technician_pairs_tvs_but_does_not_read_residents_submissions(staff_client: Any):
    await login(staff_client, "tech1")
    assert (await staff_client.get("/staff/households")).status == 200
    assert (await staff_client.get("/staff/")).status == 200
    resp = await staff_client.get("/staff/inbox")
    assert resp.status == 403 and "请联系村管理员" in await resp.text()
    assert (await staff_client.get("/staff/api/inbox")).status == 403


async def test_login_only_redirects_to_pages_of_the_staff_site(staff_client: Any):
    page = await staff_client.get("/staff/login")
    token = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    resp = await staff_client.post("/staff/login", allow_redirects=False, data={
        "username": "admin1", "password": PASSWORD, "csrf": token, "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/staff/"


def test_staff_add_makes_an_account_resets_it_and_refuses_bad_input(tmp_path: Path):
    data = tmp_path / "edge"
    provision(data)
    add_account(data, "李会计", "staff")

    def run(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "village-edge"), "staff", "add", "--data", str(data), *args],
                              input=stdin, capture_output=True, text=True, timeout=60)

    reset = run("--user", "李会计", "--role", "admin", stdin="another-long-one\n")
    assert reset.returncode == 0 and "重设" in reset.stdout
    short = run("--user", "x", "--role", "staff", stdin="short\n")
    assert short.returncode == 2 and "至少要 8 位" in short.stderr
    bad_role = run("--user", "x", "--role", "mayor", stdin="long-enough-1\n")
    assert bad_role.returncode == 2
    bad_name = run("--user", "a b/c", "--role", "staff", stdin="long-enough-1\n")
    assert bad_name.returncode == 2 and "用户名" in bad_name.stderr


async def test_a_hub_account_from_the_down_feed_can_log_in_and_never_replaces_a_local_one(staff_client: Any):
    from edge.staff.accounts import apply_staff_account
    from protocol.passwords import hash_password
    from protocol.records import delete, put

    db = staff_client.app[RUNTIME].db
    hub_hash = hash_password("town-officer-pass")
    async with db.write() as conn:
        assert await apply_staff_account(conn, put("staff_account", "zhen-wang", {"role": "staff", "pw_hash": hub_hash}))
        assert not await apply_staff_account(conn, put("staff_account", "admin1", {"role": "staff", "pw_hash": hub_hash}))
        assert not await apply_staff_account(conn, put("staff_account", "bad", {"role": "mayor", "pw_hash": hub_hash}))
    assert (await login(staff_client, "zhen-wang", "town-officer-pass")).status == 200
    assert (await login(staff_client, "admin1", PASSWORD)).status == 200  # the local admin is untouched
    async with db.write() as conn:
        assert await apply_staff_account(conn, delete("staff_account", "zhen-wang"))
    assert (await staff_client.get("/staff/api/dashboard")).status == 200  # admin1's session
    assert (await login(staff_client, "zhen-wang", "town-officer-pass")).status == 401

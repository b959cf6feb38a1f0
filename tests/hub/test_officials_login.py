"""Officials log in with a password: bearer tokens for scripts, a cookie with CSRF for the page, a lockout that
holds under concurrent guesses, and sessions that end at once when the account is disabled or expires."""

from __future__ import annotations

import asyncio
import sqlite3

from .kit import HubKit
from .official_kit import PASSWORD, body_of, login, make_official, official, two_towns


async def test_an_official_logs_in_and_gets_a_token_with_names(kit: HubKit) -> None:
    await two_towns(kit)
    await make_official(kit, "li", "editor,reviewer", "town:east", name="李四")
    resp = await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})
    assert resp.status == 200
    answer = await body_of(resp)
    assert set(answer) == {"token", "expires_at", "user"}
    assert answer["expires_at"].endswith("Z")
    assert answer["user"] == {"user": "li", "name": "李四", "roles": ["editor", "reviewer"], "scope": "town:east",
                              "scope_name": "城关镇"}
    me = await kit.client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer['token']}"})
    assert (await body_of(me))["user"]["user"] == "li"


async def test_a_wrong_password_and_an_unknown_user_get_the_same_refusal(kit: HubKit) -> None:
    await make_official(kit, "li", "viewer", "city")
    for body in ({"user": "li", "password": "wrong-password"}, {"user": "nobody", "password": PASSWORD}):
        resp = await kit.client.post("/api/v1/login", json=body)
        assert resp.status == 401
        assert await body_of(resp) == {"error": "bad_credentials", "detail": "用户名或密码不正确。The user name or"
                                       " password is wrong."}


async def test_twenty_five_concurrent_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    kit: HubKit,
) -> None:
    await make_official(kit, "li", "editor", "city")

    async def guess(n: int) -> tuple[int, str]:
        resp = await kit.client.post("/api/v1/login", json={"user": "li", "password": f"wrong-guess-{n}"})
        return resp.status, (await body_of(resp))["error"]

    answers = await asyncio.gather(*(guess(n) for n in range(25)))
    assert all(status in (401, 403) for status, _ in answers)
    checked = [a for a in answers if a == (401, "bad_credentials")]
    assert len(checked) <= 5  # the others were refused before any password check
    assert [a for a in answers if a != (401, "bad_credentials")] == [(403, "locked")] * (25 - len(checked))
    right = await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})
    assert right.status == 403
    refusal = await body_of(right)
    assert refusal["error"] == "locked" and "token" not in refusal and refusal["locked_until"]


async def test_five_wrong_passwords_in_a_row_lock_the_account_for_fifteen_minutes(kit: HubKit) -> None:
    await make_official(kit, "li", "editor", "city")
    for n in range(5):
        resp = await kit.client.post("/api/v1/login", json={"user": "li", "password": f"wrong-{n}-guess"})
        assert resp.status == 401
    right = await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})
    assert right.status == 403
    with sqlite3.connect(kit.data_dir / "hub.db") as db:  # let the fifteen minutes pass
        (locked_until,) = db.execute("SELECT locked_until FROM officials WHERE username = 'li'").fetchone()
        db.execute("UPDATE officials SET locked_until = ? WHERE username = 'li'", (locked_until - 15 * 60 - 1,))
    assert (await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})).status == 200


async def test_a_disabled_accounts_token_stops_working_at_once(kit: HubKit) -> None:
    await two_towns(kit)
    headers = await official(kit, "li", "editor", "town:east")
    assert (await kit.client.get("/api/v1/me", headers=headers)).status == 200
    resp = await kit.client.post("/api/v1/users/li/disable", headers=kit.admin)
    assert resp.status == 200 and (await body_of(resp))["disabled"] is True
    me = await kit.client.get("/api/v1/me", headers=headers)
    assert me.status == 401
    again = await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})
    assert again.status == 403 and (await body_of(again))["error"] == "account_disabled"


async def test_an_expired_session_is_refused(kit: HubKit) -> None:
    headers = await official(kit, "li", "viewer", "city")
    with sqlite3.connect(kit.data_dir / "hub.db") as db:
        db.execute("UPDATE sessions SET expires_at = 0")
    resp = await kit.client.get("/api/v1/me", headers=headers)
    assert resp.status == 401
    assert (await body_of(resp))["error"] == "session_expired"


async def test_a_password_change_needs_the_old_password_and_ends_the_other_sessions(kit: HubKit) -> None:
    first = await official(kit, "li", "viewer", "city")
    second = await login(kit, "li")
    wrong = await kit.client.post("/api/v1/password", headers=first,
                                  json={"old_password": "not-it-at-all", "new_password": "a-new-password"})
    assert wrong.status == 401
    short = await kit.client.post("/api/v1/password", headers=first,
                                  json={"old_password": PASSWORD, "new_password": "short"})
    assert short.status == 400 and (await body_of(short))["error"] == "weak_password"
    resp = await kit.client.post("/api/v1/password", headers=first,
                                 json={"old_password": PASSWORD, "new_password": "a-new-password"})
    assert resp.status == 200
    assert (await kit.client.get("/api/v1/me", headers=first)).status == 200
    assert (await kit.client.get("/api/v1/me", headers=second)).status == 401
    assert (await kit.client.post("/api/v1/login", json={"user": "li", "password": PASSWORD})).status == 401
    await login(kit, "li", "a-new-password")


async def test_the_page_logs_in_with_a_cookie_and_its_changes_need_the_csrf_token(kit: HubKit) -> None:
    await make_official(kit, "li", "admin", "city")
    resp = await kit.client.post("/admin/login", data={"user": "li", "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/"
    cookie = resp.headers["Set-Cookie"]
    assert "vn_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    me = await body_of(await kit.client.get("/api/v1/me"))  # the cookie jar sends the session
    csrf = me["csrf_token"]
    assert me["via"] == "cookie" and csrf
    body = {"id": "west", "name": "河西镇"}
    refused = await kit.client.post("/api/v1/towns", json=body)
    assert refused.status == 403 and (await body_of(refused))["error"] == "csrf"
    forged = await kit.client.post("/api/v1/towns", json=body, headers={"X-CSRF-Token": "forged"})
    assert forged.status == 403
    assert [t.id for t in await kit.hub.store.list_towns()] == []
    made = await kit.client.post("/api/v1/towns", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status == 201
    out = await kit.client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    assert (await kit.client.get("/api/v1/me")).status == 401


async def test_a_wrong_password_on_the_page_shows_the_form_again(kit: HubKit) -> None:
    await make_official(kit, "li", "viewer", "city")
    resp = await kit.client.post("/admin/login", data={"user": "li", "password": "wrong-password"},
                                 allow_redirects=False)
    assert resp.status == 401 and "text/html" in resp.headers["Content-Type"]
    assert "vn_session" not in resp.headers.get("Set-Cookie", "")


async def test_a_login_form_posted_from_another_site_is_refused(kit: HubKit) -> None:
    await make_official(kit, "li", "viewer", "city")
    resp = await kit.client.post("/admin/login", data={"user": "li", "password": PASSWORD},
                                 headers={"Origin": "http://evil.example"}, allow_redirects=False)
    assert resp.status == 403 and "Set-Cookie" not in resp.headers


async def test_the_admin_token_still_opens_the_page_through_the_login_form(kit: HubKit) -> None:
    resp = await kit.client.post("/admin/login", data={"token": kit.token}, allow_redirects=False)
    assert resp.status == 303
    page = await kit.client.get("/admin/")
    assert page.status == 200 and "管理页面" in await page.text()


async def test_bad_login_input_is_a_4xx_with_error_and_detail(kit: HubKit) -> None:
    for body in (b"not json", b"[]", b'{"user": "li"}', b'{"user": 5, "password": "x"}',
                 b'{"user": "../etc", "password": "xxxxxxxx"}'):
        resp = await kit.client.post("/api/v1/login", data=body)
        assert resp.status == 400, body
        assert set(await body_of(resp)) == {"error", "detail"}


async def test_after_logging_in_on_the_page_each_official_sees_the_villages_of_its_own_scope(kit: HubKit) -> None:
    await two_towns(kit)
    await make_official(kit, "city", "viewer", "city")
    await make_official(kit, "town", "viewer", "town:east")
    await kit.client.post("/admin/login", data={"user": "town", "password": PASSWORD}, allow_redirects=False)
    assert (await kit.client.get("/admin/", headers={"Accept": "text/html"})).status == 200
    town_page = await (await kit.client.get("/admin/villages")).text()
    assert "东庄村" in town_page and "西庄村" not in town_page
    await kit.client.post("/admin/login", data={"user": "city", "password": PASSWORD}, allow_redirects=False)
    page = await kit.client.get("/admin/villages")
    assert page.status == 200
    city_page = await page.text()
    assert "东庄村" in city_page and "西庄村" in city_page

"""HTTP routes for named officials: login and logout (API and page), password change, accounts, the org tree and
the audit log. Handlers parse and answer; hub/logins.py, officials.py, org.py and audit.py decide.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from protocol.http_errors import read_body, read_form, read_json

from . import admin_page, logins, officials, org
from .actors import Actor, require_role
from .auth import ADMIN_COOKIE, token_ok
from .errors import BadInput, Forbidden, HubError
from .json_answers import MAX_JSON, action_body, json_answer
from .org_import import MAX_FILE_BYTES, import_upload
from .registry import add_village
from .services import HUB
from .session_auth import SESSION_COOKIE, optional_actor, require_actor
from .validate import int_param, require_object, require_village_id, rfc3339

routes = web.RouteTableDef()
MAX_PAGE = 1000
_PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _str_field(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"the field {name!r} must be a non-empty string", "missing_field")
    return value


async def _who(request: web.Request, actor: Actor) -> dict[str, object]:
    names = await request.app[HUB].store.place_names()
    return {**actor.who(), "scope_name": names.get(actor.scope, actor.scope)}


# logging in and out


@routes.post("/api/v1/login")
async def login(request: web.Request) -> web.Response:
    body = require_object(await read_json(request, MAX_JSON))
    user = officials.require_username(body.get("user"))
    done = await logins.login(request.app[HUB].store, user, _str_field(body, "password"), "bearer")
    actor = Actor.of(done.official, "bearer")
    return json_answer({"token": done.token, "expires_at": rfc3339(done.session.expires_at),
                        "user": await _who(request, actor)})


@routes.post("/api/v1/logout")
async def logout(request: web.Request) -> web.Response:
    actor = require_actor(request)
    await logins.logout(request.app[HUB].store, actor)
    resp = json_answer({"ok": True})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    """Who the caller is; a page session also learns its CSRF token here (to send as X-CSRF-Token)."""
    actor = require_actor(request)
    return json_answer({"user": await _who(request, actor), "via": actor.via, "csrf_token": actor.csrf})


@routes.post("/api/v1/password")
async def change_password(request: web.Request) -> web.Response:
    actor = require_actor(request)
    if not actor.is_official:
        raise Forbidden("the admin token has no password; change admin.token instead", "forbidden")
    body = require_object(await read_json(request, MAX_JSON))
    await logins.change_password(request.app[HUB].store, actor, _str_field(body, "old_password"),
                                 body.get("new_password"))
    return json_answer({"ok": True})


def _same_origin(request: web.Request) -> bool:
    """A login form posted from another site is refused (login CSRF); browsers send Origin on every POST."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _login_page(message: str, status: int = 401) -> web.Response:
    return web.Response(status=status, text=admin_page.render_login(message), content_type="text/html",
                        headers=_PAGE_HEADERS)


@routes.get("/admin/login")
async def login_form(request: web.Request) -> web.Response:
    return _login_page("", status=200)


@routes.post("/admin/login")
async def login_page(request: web.Request) -> web.Response:
    """The page's login: `user` and `password` open a session cookie; `token` (the admin token) still works."""
    if not _same_origin(request):
        return _login_page("请从本站的登录页面登录。Log in from this hub's own login page.", status=403)
    form = await read_form(request)
    token = form.get("token")
    if isinstance(token, str) and token:
        if not token_ok(request, token):
            return _login_page("管理令牌不正确，请重新输入。")
        resp = web.HTTPSeeOther("/admin/")
        resp.set_cookie(ADMIN_COOKIE, token, httponly=True, samesite="Strict", path="/admin/", secure=request.secure)
        raise resp
    user, password = form.get("user"), form.get("password")
    if not isinstance(user, str) or not isinstance(password, str) or not user or not password:
        return _login_page("请输入用户名和密码。Enter your user name and password.", status=400)
    try:
        done = await logins.login(request.app[HUB].store, officials.require_username(user), password, "cookie")
    except HubError as exc:
        return _login_page(exc.detail, status=exc.status)
    resp = web.HTTPSeeOther("/admin/")
    resp.set_cookie(SESSION_COOKIE, done.token, httponly=True, samesite="Strict", path="/",
                    max_age=logins.SESSION_LIFETIME_S, secure=request.secure)
    raise resp


@routes.post("/admin/logout")
async def logout_page(request: web.Request) -> web.Response:
    actor = optional_actor(request)  # the middleware has checked the CSRF token of a session's POST
    if actor is not None:
        await logins.logout(request.app[HUB].store, actor)
    resp = web.HTTPSeeOther("/admin/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(ADMIN_COOKIE, path="/admin/")
    raise resp


# accounts


@routes.get("/api/v1/users")
async def list_users(request: web.Request) -> web.Response:
    actor = require_actor(request)
    store = request.app[HUB].store
    names = await store.place_names()
    accounts = await officials.accounts_in_scope(store, actor)
    return json_answer({"users": [o.to_json(names.get(o.scope, o.scope)) for o in accounts]})


@routes.post("/api/v1/users")
async def put_user(request: web.Request) -> web.Response:
    """Create an account (201) or reset one (200): `{user, name?, roles, scope, password}`."""
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    store = request.app[HUB].store
    official, created = await officials.put_account(store, actor, body.get("user"), body.get("roles"),
                                                    body.get("scope"), body.get("name"), body.get("password"))
    names = await store.place_names()
    return json_answer({"id": official.username, **official.to_json(names.get(official.scope, official.scope))},
                       status=201 if created else 200)


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    actor = require_actor(request)
    await action_body(request)
    store = request.app[HUB].store
    official = await officials.set_disabled(store, actor, request.match_info["user"], disabled)
    names = await store.place_names()
    return json_answer(official.to_json(names.get(official.scope, official.scope)))


@routes.post("/api/v1/users/{user}/disable")
async def disable_user(request: web.Request) -> web.Response:
    return await _set_disabled(request, True)


@routes.post("/api/v1/users/{user}/enable")
async def enable_user(request: web.Request) -> web.Response:
    return await _set_disabled(request, False)


# the org tree


@routes.get("/api/v1/org")
async def org_tree(request: web.Request) -> web.Response:
    actor = require_actor(request)
    return json_answer(await org.org_tree(request.app[HUB].store, actor))


@routes.post("/api/v1/towns")
async def put_town(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    created = await org.add_town(request.app[HUB].store, actor, body.get("id"), body.get("name"))
    return json_answer({"id": body["id"], "name": str(body["name"]).strip()}, status=201 if created else 200)


@routes.post("/api/v1/units")
async def put_unit(request: web.Request) -> web.Response:
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    created = await org.add_unit(request.app[HUB].store, actor, body.get("id"), body.get("name"), body.get("parent"))
    return json_answer({"id": body["id"], "name": str(body["name"]).strip(), "parent": body["parent"]},
                       status=201 if created else 200)


@routes.post("/api/v1/villages")
async def put_village(request: web.Request) -> web.Response:
    """Register a village in a town (an admin of that town or the city): `{id, name, town, edge_url?}`."""
    actor = require_actor(request)
    body = require_object(await read_json(request, MAX_JSON))
    town, url = body.get("town"), body.get("edge_url")
    if not isinstance(town, str) or (url is not None and not isinstance(url, str)):
        raise BadInput("town must be a town id and edge_url a URL string", "wrong_type")
    hub = request.app[HUB]
    village_id = require_village_id(body.get("id"), "id")
    result = await add_village(hub.store, hub.down, village_id, str(body.get("name", "")), town, url, actor=actor)
    v = result.village
    return json_answer({"id": v.id, "name": v.name, "town": v.town_id, "town_name": v.town_name},
                       status=201 if result.created else 200)


@routes.post("/api/v1/org/import")
async def import_org(request: web.Request) -> web.Response:
    """The sheet's bytes as the body, `?name=FILE.xlsx` (or .csv); all or nothing, bad rows listed in `rows`."""
    actor = require_actor(request)
    require_role(actor, "admin")
    raw = await read_body(request, MAX_FILE_BYTES)
    hub = request.app[HUB]
    report = await import_upload(hub.store, hub.down, actor, request.query.get("name", ""), raw)
    return json_answer({"towns": report.towns, "villages": report.villages, "units": report.units})


# the audit log


@routes.get("/api/v1/audit")
async def audit_log(request: web.Request) -> web.Response:
    """Entries after `since`, oldest first, about places in the admin's scope; `next` continues the list."""
    actor = require_actor(request)
    require_role(actor, "admin")
    since = int_param(request.query.get("since"), "since", 0, 0, 2**62)
    limit = int_param(request.query.get("limit"), "limit", MAX_PAGE, 1, MAX_PAGE)
    store = request.app[HUB].store
    entries = await store.audit_entries(since, limit + 1, within=actor.scope)
    more = len(entries) > limit
    entries = entries[:limit]
    places, people = await store.place_names(), await store.official_names()
    answers = [{**e.to_json(), "user_name": people.get(e.username, e.username),
                "target_name": places.get(e.target) or people.get(e.target.removeprefix("user:"))} for e in entries]
    return json_answer({"entries": answers, "next": str(entries[-1].seq) if more else None})

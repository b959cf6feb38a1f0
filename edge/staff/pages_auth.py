"""Login, logout, the language switch and the dashboard (page and its JSON for live refresh)."""

from __future__ import annotations

from aiohttp import web

from protocol.http_errors import read_form

from ..web.i18n import normalize_language
from ..web.per_address import PerAddressLimit
from .accounts import LoginRefused, authenticate
from .dashboard import dashboard_data
from .sessions import COOKIE, SESSION_S, end_session, start_session
from .web import ALL_ROLES, LANG_COOKIE, LOGIN_CSRF_COOKIE, PREFIX, allow, new_login_csrf, render, runtime

routes = web.RouteTableDef()
# Password checks one address may make in 15 minutes, across all accounts: five per account would otherwise let
# one laptop on the Wi-Fi try five passwords on every account, and each check costs the box 16 MiB of scrypt.
LOGIN_CHECKS_PER_ADDRESS = 20
LOGIN_ATTEMPTS = web.AppKey("login_attempts", PerAddressLimit)


def login_attempts() -> PerAddressLimit:
    return PerAddressLimit(LOGIN_CHECKS_PER_ADDRESS, 15 * 60.0)


def _set_private_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
                        max_age: int) -> None:
    """HttpOnly and SameSite=Strict: page scripts cannot read it and other sites cannot make the browser send it.
    Secure when served over HTTPS, so the browser never sends it back over the plain port."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="Strict", path=PREFIX,
                        secure=request.secure)


def _safe_next(value: str | None) -> str:
    """Only a path on this page: an open redirect would let a link log staff in and send them elsewhere."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/"


def _login_page(request: web.Request, error: str = "", status: int = 200, username: str = "") -> web.Response:
    token = new_login_csrf()
    response = render(request, "login.html", status=status, login_csrf=token, error=error, username=username,
                      next=_safe_next(request.query.get("next")))
    _set_private_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    return _login_page(request)


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    try:
        account = await authenticate(runtime(request).db, username, password,
                                     per_address=request.app[LOGIN_ATTEMPTS], address=request.remote)
    except LoginRefused as refused:
        status = 429 if refused.code == "too_many" else 401
        return _login_page(request, refused.message, status=status, username=username[:64])
    token = await start_session(runtime(request).db, account.username)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    _set_private_cookie(request, response, COOKIE, token, int(SESSION_S))
    response.del_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await end_session(runtime(request).db, request.cookies.get(COOKIE))
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response


@routes.get("/lang")
async def switch_language(request: web.Request) -> web.Response:
    lang = normalize_language(request.query.get("to"))
    response = web.HTTPSeeOther(_safe_next(request.query.get("next")))
    if lang is not None:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", path=PREFIX)
    raise response


@routes.get("/")
@allow(*ALL_ROLES)
async def dashboard(request: web.Request) -> web.Response:
    return render(request, "dashboard.html", d=await dashboard_data(runtime(request)))


@routes.get("/api/dashboard")
@allow(*ALL_ROLES)
async def dashboard_json(request: web.Request) -> web.Response:
    return web.json_response(await dashboard_data(runtime(request)))

"""The staff sub-application mounted at /staff: the login guard, CSRF check, roles and page rendering.

Every route under /staff except the login form and the language switch needs a session; every POST needs the
CSRF token of the form it came from. The guard is a middleware of this sub-application, so no route can forget it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from protocol.http_errors import ApiError

from ..runtime import RUNTIME, EdgeRuntime
from . import i18n
from .households import village_timezone
from .sessions import COOKIE, Session, csrf_matches, session_for

PREFIX = "/staff"
PUBLIC_PATHS = frozenset({f"{PREFIX}/login", f"{PREFIX}/lang"})
LOGIN_CSRF_COOKIE = "vn_login_csrf"
SESSION_KEY = web.RequestKey("staff_session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALL_ROLES = ("admin", "staff", "technician")
OFFICE = ("admin", "staff")  # residents' submissions and notices: not for the visiting technician

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def village_time(value: str | None) -> str:
    """An RFC 3339 UTC time as the village's wall clock ("2030-03-01 16:05"); staff think in local time."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(village_timezone()).strftime("%Y-%m-%d %H:%M")


_templates.filters["village_time"] = village_time


def runtime(request: web.Request) -> EdgeRuntime:
    return request.config_dict[RUNTIME]


def current(request: web.Request) -> Session:
    return request[SESSION_KEY]


def village_id(request: web.Request) -> str:
    state = runtime(request).holder.current
    if state is None:
        raise ApiError(503, "not_provisioned", "这台设备尚未开通，请先开通。This box is not provisioned yet.")
    return state.village_id


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """Only these roles may use the route; others get a page saying whose job it is."""

    def wrap(handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            if current(request).role not in roles:
                return render(request, "message.html", status=403, title="没有权限", message=(
                    "您的账户不能使用这个页面，请联系村管理员。Your account cannot use this page; ask the village admin."
                ))
            return await handler(request)

        checked.__name__ = handler.__name__
        checked.__doc__ = handler.__doc__
        return checked

    return wrap


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    lang = i18n.pick_language(request.cookies.get(i18n.COOKIE))
    session = request.get(SESSION_KEY)
    state = runtime(request).holder.current
    html = _templates.get_template(name).render(
        _=i18n.gettext_for(lang),
        lang=lang,
        session=session,
        csrf=session.csrf if session else "",
        village_name=state.village_name if state else "",
        path=request.path_qs,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(f"{PREFIX}/api/")


def _login_url(request: web.Request) -> str:
    return f"{PREFIX}/login?next={request.path_qs}" if request.method == "GET" else f"{PREFIX}/login"


async def _refuse_csrf(request: web.Request) -> web.StreamResponse:
    if _is_api(request):
        raise ApiError(403, "csrf", "the request lacks this session's CSRF token (X-CSRF-Token or form field csrf)")
    return render(request, "message.html", status=403, title="表单已过期", message=(
        "这个表单已过期或不是从本页面提交的，没有做任何改动。请返回、刷新页面后再提交一次。"
        " This form has expired or did not come from this page; nothing was changed. Go back, reload and try again."
    ))


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if request.path in PUBLIC_PATHS:
        if unsafe:
            form = await request.post()
            if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf", ""))):
                return await _refuse_csrf(request)
        return await handler(request)
    session = await session_for(runtime(request).db, request.cookies.get(COOKIE))
    if session is None:
        if _is_api(request) or unsafe:
            raise ApiError(401, "login_required", "请先登录村务管理页面。Log in to the staff page first.")
        raise web.HTTPFound(_login_url(request))
    request[SESSION_KEY] = session
    if unsafe:
        given = request.headers.get("X-CSRF-Token")
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = str((await request.post()).get("csrf", ""))
        if not csrf_matches(session.csrf, given):
            return await _refuse_csrf(request)
    return await handler(request)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def create_staff_app() -> web.Application:
    from . import pages_auth, pages_inbox, pages_meetings, pages_village

    app = web.Application(middlewares=[guard])
    app.add_routes(pages_auth.routes)
    app.add_routes(pages_inbox.routes)
    app.add_routes(pages_village.routes)
    app.add_routes(pages_meetings.routes)
    return app

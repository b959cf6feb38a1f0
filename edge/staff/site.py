"""The staff sub-application mounted at /staff: its pages behind the login guard and the CSRF check.

Every route under /staff except the login form and the language switch needs a session; every POST needs the
CSRF token of the form it came from. The guard is a middleware of this sub-application, so no route can forget it.
"""

from __future__ import annotations

from aiohttp import web

from protocol.http_errors import read_form

from ..errors import LoginRequired, Refused
from ..web.staff_tls import to_https
from . import pages_auth, pages_inbox, pages_meetings, pages_village
from .sessions import COOKIE, csrf_matches, session_for
from .web import LOGIN_CSRF_COOKIE, PREFIX, SESSION_KEY, Handler, render, runtime

PUBLIC_PATHS = frozenset({f"{PREFIX}/login", f"{PREFIX}/lang"})


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(f"{PREFIX}/api/")


def _login_url(request: web.Request) -> str:
    return f"{PREFIX}/login?next={request.path_qs}" if request.method == "GET" else f"{PREFIX}/login"


async def _refuse_csrf(request: web.Request) -> web.StreamResponse:
    if _is_api(request):
        raise Refused(403, "csrf", "the request lacks this session's CSRF token (X-CSRF-Token or form field csrf)")
    return render(request, "message.html", status=403, title="title.form_expired", message=(
        "这个表单已过期或不是从本页面提交的，没有做任何改动。请返回、刷新页面后再提交一次。"
        " This form has expired or did not come from this page; nothing was changed. Go back, reload and try again."
    ))


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if request.path in PUBLIC_PATHS:
        if unsafe:
            form = await read_form(request)
            if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf", ""))):
                return await _refuse_csrf(request)
        return await handler(request)
    session = await session_for(runtime(request).db, request.cookies.get(COOKIE))
    if session is None:
        if _is_api(request) or unsafe:
            raise LoginRequired()
        raise web.HTTPFound(_login_url(request))
    request[SESSION_KEY] = session
    if unsafe:
        given = request.headers.get("X-CSRF-Token")
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = str((await read_form(request)).get("csrf", ""))
        if not csrf_matches(session.csrf, given):
            return await _refuse_csrf(request)
    return await handler(request)


def create_staff_app() -> web.Application:
    app = web.Application(middlewares=[to_https, guard])  # HTTPS first: no password is read over plain HTTP
    app[pages_auth.LOGIN_ATTEMPTS] = pages_auth.login_attempts()
    app.add_routes(pages_auth.routes)
    app.add_routes(pages_inbox.routes)
    app.add_routes(pages_village.routes)
    app.add_routes(pages_meetings.routes)
    return app

"""One middleware finds out who is calling, for every route: the admin token, an official's bearer token, or the
page's session cookie, whose state-changing requests must carry the session's CSRF token.

Routes then ask `require_actor`; none of them reads tokens or cookies itself, so none can forget the CSRF check.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from protocol.http_errors import read_form

from .actors import ADMIN_TOKEN, Actor
from .auth import bearer_token, token_ok
from .errors import Forbidden, HubError, Unauthorized
from .logins import resolve
from .services import HUB

SESSION_COOKIE = "vn_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
# The login form may be posted by a browser that still holds an old session cookie.
CSRF_EXEMPT = frozenset({"/admin/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ACTOR = web.RequestKey("actor", Actor)
REFUSAL = web.RequestKey("refusal", HubError)


async def _csrf_given(request: web.Request) -> str:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = str((await read_form(request)).get(CSRF_FIELD, ""))  # aiohttp keeps the parsed form for the handler
    return given or ""


@web.middleware
async def identify(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    store = request.app[HUB].store
    bearer = bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        if bearer:
            request[ACTOR] = ADMIN_TOKEN if token_ok(request, bearer) else await resolve(store, bearer, "bearer")
        elif cookie:
            actor = await resolve(store, cookie, "cookie")
            request[ACTOR] = actor
            if request.method not in SAFE_METHODS and request.path not in CSRF_EXEMPT:
                if not hmac.compare_digest((await _csrf_given(request)).encode(), (actor.csrf or "").encode()):
                    raise Forbidden(
                        "页面已过期或请求不是从本页面发出的，没有做任何改动；请刷新页面后再试。 The request lacks this"
                        f" session's CSRF token ({CSRF_HEADER} header or form field {CSRF_FIELD}); nothing was changed.",
                        "csrf",
                    )
    except Unauthorized as exc:
        request[REFUSAL] = exc  # said only if the route needs someone: public routes still answer
    return await handler(request)


def require_actor(request: web.Request) -> Actor:
    actor = request.get(ACTOR)
    if actor is not None:
        return actor
    refusal = request.get(REFUSAL)
    if refusal is not None:
        raise refusal
    raise Unauthorized(
        "请先登录。This route needs `Authorization: Bearer <token>`: a token from POST /api/v1/login, or the admin"
        " token from admin.token."
    )


def optional_actor(request: web.Request) -> Actor | None:
    return request.get(ACTOR)

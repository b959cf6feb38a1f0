"""What every staff page handler uses: the runtime, the session, roles, the village, and rendering in two languages.

The pages import this module, and `site` (the guard and the sub-application) imports the pages, so nothing here
may import a page or `site`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from edge.residents.households import village_timezone

from ..errors import NotProvisioned, title_key
from ..runtime import RUNTIME, EdgeRuntime
from ..web.i18n import DEFAULT_LANGUAGE, Catalogs, normalize_language
from .sessions import Session

PREFIX = "/staff"
LANG_COOKIE = "vn_lang"
LOGIN_CSRF_COOKIE = "vn_login_csrf"
SESSION_KEY = web.RequestKey("staff_session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALL_ROLES = ("admin", "staff", "technician")
OFFICE = ("admin", "staff")  # residents' submissions and notices: not for the visiting technician

TEXTS = Catalogs(Path(__file__).parent / "catalogs")

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
        raise NotProvisioned("这台设备尚未开通，请先开通。This box is not provisioned yet.")
    return state.village_id


def language(request: web.Request) -> str:
    return normalize_language(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANGUAGE


def done_name(request: web.Request, known: tuple[str, ...]) -> str:
    """What a form just did (?done= after its redirect), for the page to say so; "" for anything unknown."""
    done = request.query.get("done", "")
    return done if done in known else ""


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """Only these roles may use the route; others get a page saying whose job it is."""

    def wrap(handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            if current(request).role not in roles:
                return render(request, "message.html", status=403, title="title.not_allowed", message=(
                    "您的账户不能使用这个页面，请联系村管理员。Your account cannot use this page; ask the village admin."
                ))
            return await handler(request)

        checked.__name__ = handler.__name__
        checked.__doc__ = handler.__doc__
        return checked

    return wrap


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    lang = language(request)
    session = request.get(SESSION_KEY)
    state = runtime(request).holder.current
    html = _templates.get_template(name).render(
        t=TEXTS.translator(lang),
        lang=lang,
        session=session,
        csrf=session.csrf if session else "",
        village_name=state.village_name if state else "",
        path=request.path_qs,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def error_page(request: web.Request, status: int, detail: str) -> web.Response:
    """A refusal on a staff page, in the page's frame (registered with the edge's error middleware)."""
    return render(request, "message.html", status=status, title=title_key(status), message=detail)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)

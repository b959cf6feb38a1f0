"""What every page of the officials' site shares: who is looking, the Jinja2 environment, the layout's context
(names, language, CSRF token, navigation by role) and the headers that keep every request on the hub's origin.

Pages are rendered on the server with autoescaping; their small scripts talk to the JSON API with the session's
CSRF token, which the layout hands over in a meta tag.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from .actors import ADMIN_TOKEN, Actor
from .auth import ADMIN_COOKIE, bearer_token, token_ok
from .errors import HubError
from .page_i18n import page_language, page_translator, script_texts
from .services import HUB
from .session_auth import optional_actor
from .stats_answer import STATS_ROLES

# Officials read times where they work; the city is in China, so one zone for every page.
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
LOGIN_PATH = "/admin/login"

# Everything from the hub itself: government intranets have no internet, and a page that needs none cannot leak.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self';"
        " connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}

AREA_KEYS = ("party", "services", "community", "safety", "elderly", "live", "interaction", "meetings")

page_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def local_time(ts: float | None) -> str:
    """Unix seconds as 2026-12-07 16:39 in Asia/Shanghai; a dash for never."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


page_env.filters["local_time"] = local_time


def page_actor(request: web.Request) -> Actor | None:
    """A named official by session cookie, or the admin token (bearer, or the page's token cookie)."""
    actor = optional_actor(request)
    if actor is not None:
        return actor
    if token_ok(request, bearer_token(request)) or token_ok(request, request.cookies.get(ADMIN_COOKIE)):
        return ADMIN_TOKEN
    return None


def require_page_actor(request: web.Request) -> Actor:
    actor = page_actor(request)
    if actor is None:
        raise web.HTTPSeeOther(LOGIN_PATH)
    return actor


def _nav(actor: Actor) -> list[tuple[str, str, str]]:
    """(page id, path, catalog key) of the menu, by what the actor may do."""
    items = [("worklist", "/admin/", "nav.worklist")]
    if "editor" in actor.roles and actor.is_official:  # the admin token drafts through the API only
        items.append(("editor", "/admin/notices/new", "nav.editor"))
    if "reviewer" in actor.roles:
        items.append(("review", "/admin/review", "nav.review"))
    if any(role in actor.roles for role in STATS_ROLES):
        items.append(("dashboard", "/admin/dashboard", "nav.dashboard"))
    items += [("villages", "/admin/villages", "nav.villages"), ("streams", "/admin/streams", "nav.streams")]
    if "admin" in actor.roles:
        items += [("accounts", "/admin/accounts", "nav.accounts"), ("audit", "/admin/audit", "nav.audit"),
                  ("rollouts", "/admin/rollouts", "nav.rollouts")]
    return items


async def render_page(request: web.Request, actor: Actor, template: str, page: str, status: int = 200,
                      **context: Any) -> web.Response:
    hub = request.app[HUB]
    lang = page_language(request)
    t = page_translator(lang)
    names = await hub.store.place_names()
    html = page_env.get_template(template).render(
        t=t, lang=lang, page=page, actor=actor, hub_name=hub.keys.hub_name, nav=_nav(actor),
        scope_name=names.get(actor.scope, t("scope.city") if actor.scope == "city" else actor.scope),
        can_act=actor.is_official, csrf=actor.csrf or "", js_texts=script_texts(lang),
        role_names=[t(f"role.{r}") for r in sorted(actor.roles)], here=request.path_qs, **context,
    )
    return web.Response(status=status, text=html, content_type="text/html", headers=PAGE_HEADERS)


async def refuse_page(request: web.Request, actor: Actor, key: str) -> web.Response:
    """A 403 page with a sentence (in the official's language) instead of the JSON refusal."""
    return await render_page(request, actor, "page_refused.html", "refused", status=403, message_key=key,
                             detail="")


PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def with_refusals_as_pages(handler: PageHandler) -> PageHandler:
    """A refusal from the domain (out of scope, no such notice) as a page with the hub's sentence, not as JSON."""

    @functools.wraps(handler)
    async def page(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except HubError as exc:
            actor = page_actor(request)
            if actor is None:
                raise
            return await render_page(request, actor, "page_refused.html", "refused", status=exc.status,
                                     message_key="", detail=exc.detail)

    return page


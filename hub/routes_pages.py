"""URLs of the officials' web page under /admin/ (the front page itself is in routes_admin.py, with the admin
token's login), its language switch and its static files, which the hub serves itself: no CDN, no internet.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from . import pages_dashboard, pages_notices, pages_places, pages_rollouts
from .page_i18n import LANG_COOKIE, PAGE_LANGUAGES
from .page_render import with_refusals_as_pages
from .pages_cases import add_case_pages

routes = web.RouteTableDef()
STATIC_DIR = Path(__file__).parent / "static"

routes.get("/admin/notices/new")(with_refusals_as_pages(pages_notices.editor))
routes.get("/admin/notices/{id}/edit")(with_refusals_as_pages(pages_notices.editor))
routes.get("/admin/review")(with_refusals_as_pages(pages_notices.review_list))
routes.get("/admin/review/{id}")(with_refusals_as_pages(pages_notices.review_one))
routes.get("/admin/preview/{id}")(with_refusals_as_pages(pages_notices.tv_preview))
routes.get("/admin/villages")(with_refusals_as_pages(pages_places.villages))
routes.get("/admin/accounts")(with_refusals_as_pages(pages_places.accounts))
routes.get("/admin/streams")(with_refusals_as_pages(pages_places.streams))
routes.get("/admin/password")(with_refusals_as_pages(pages_places.password))
routes.get("/admin/audit")(with_refusals_as_pages(pages_places.audit))
routes.get("/admin/rollouts")(with_refusals_as_pages(pages_rollouts.rollouts_page))
routes.get("/admin/dashboard")(with_refusals_as_pages(pages_dashboard.dashboard))
add_case_pages(routes)
routes.static("/admin/static", STATIC_DIR)


@routes.get("/admin/lang")
async def switch_language(request: web.Request) -> web.Response:
    """`?to=en` or `?to=zh-CN` remembers the language and goes back to the page (a path on this hub only)."""
    lang = request.query.get("to", "")
    back = request.query.get("back", "/admin/")
    if not back.startswith("/admin/") or urlsplit(back).netloc:
        back = "/admin/"
    resp = web.HTTPSeeOther(back)
    if lang in PAGE_LANGUAGES:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Strict", path="/admin/")
    raise resp

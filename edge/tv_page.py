"""The first TV page at /tv/: the village's notices in large Chinese text, server-rendered for old STB browsers."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from protocol.records import AREAS

from .notices import list_notices
from .runtime import RUNTIME

routes = web.RouteTableDef()

AREA_NAMES = {
    "party": "社区党建",
    "services": "下沉服务",
    "community": "社区管理",
    "safety": "平安社区",
    "elderly": "养老助老",
    "live": "视频直播",
    "interaction": "政民互动",
    "meetings": "社区会议",
}
assert set(AREA_NAMES) == set(AREAS)

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/tv/")


@routes.get("/tv")
async def tv_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound("/tv/")


@routes.get("/tv/")
async def tv_home(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    state = rt.holder.current
    html = _templates.get_template("tv.html").render(
        village_name=state.village_name if state else "",
        notices=await list_notices(rt.db, limit=50),
        area_names=AREA_NAMES,
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")

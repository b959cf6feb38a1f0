"""The TV app's pages at /tv/: home, the eight area screens, notices, video, forms, my submissions, settings.

Handlers gather what a screen shows and render it; each page names where back goes, so no screen is a dead end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from edge.notices.board import list_notices
from edge.residents.my_submissions import checked_in, device_submission, device_submissions
from edge.residents.rules import MAX_TEXT
from edge.usage.tally import tally_of
from protocol.records import AREAS, is_sha256_hex

from ..runtime import RUNTIME
from .forms import AREA_ACTIONS, FORMS
from .render import TEXTS, render
from .viewer import Viewer, remember, viewer_for

routes = web.RouteTableDef()
_HIDDEN_KINDS = ("checkin", "rating")  # shown elsewhere: the check-in on home, a rating on what it rates


def _viewer(request: web.Request) -> Viewer:
    return viewer_for(request)


async def _checkin(request: web.Request, viewer: Viewer) -> dict[str, Any]:
    """The one-press check-in's id (this device's own for today) and whether it was sent already."""
    today = _today()
    if viewer.device is None:  # not registered yet: the page's script registers and reloads at once
        return {"checkin_id": "", "checkin_day": today.isoformat(), "checked_in": False}
    return {"checkin_id": viewer.device.checkin_id(today), "checkin_day": today.isoformat(),
            "checked_in": await checked_in(request.app[RUNTIME].db, viewer.device, today)}


def _today() -> Any:
    # The box's local day: residents check in per calendar day where they live, not per UTC day.
    return datetime.now().astimezone().date()


def _count_view(request: web.Request, viewer: Viewer, area: str | None = None, notice_id: str | None = None) -> None:
    """Usage counts (edge/usage/): a view of this screen by this TV; nothing leaves the box but the day's totals."""
    tally = tally_of(request.app)
    if tally is None:
        return
    if notice_id is not None:
        tally.notice(viewer.device_id, notice_id)
    else:
        tally.page(viewer.device_id, area)


def _media_tags(notice: dict[str, Any]) -> list[str]:
    tags: list[str] = []
    for a in notice["attachments"]:
        mime = str(a.get("mime", ""))
        tag = "tag.image" if mime.startswith("image/") else "tag.video" if mime.startswith("video/") else "tag.document"
        if tag not in tags:
            tags.append(tag)
    return tags


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/tv/")


@routes.get("/tv")
async def tv_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound("/tv/")


@routes.get("/tv/")
async def home(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    rt = request.app[RUNTIME]
    t = TEXTS.translator(viewer.lang)
    state = rt.holder.current
    _count_view(request, viewer)
    return render(request, viewer, "home.html", heading=t("app.title", village=state.village_name if state else ""),
                  back=None, page="home", areas=AREAS, **await _checkin(request, viewer))


@routes.get("/tv/area/{area}")
async def area(request: web.Request) -> web.Response:
    code = request.match_info["area"]
    if code not in AREAS:
        raise web.HTTPFound("/tv/")  # an old bookmark: home is the nearest useful screen
    viewer = _viewer(request)
    notices = await list_notices(request.app[RUNTIME].db, code, limit=200)
    _count_view(request, viewer, area=code)
    return render(request, viewer, "area.html", heading=TEXTS.translator(viewer.lang)(f"area.{code}"), back="/tv/",
                  page=f"area-{code}", area=code, notices=notices, media_tags=_media_tags,
                  actions=AREA_ACTIONS[code], forms=FORMS, **await _checkin(request, viewer))


@routes.get("/tv/notice/{id}")
async def notice(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    rt = request.app[RUNTIME]
    nid = request.match_info["id"]
    found = next((n for n in await list_notices(rt.db) if n["id"] == nid), None)
    t = TEXTS.translator(viewer.lang)
    if found is None:
        return render(request, viewer, "gone.html", heading=t("list.notices"), back="/tv/", page="notice-gone",
                      message=t("notice.not_found"), status=404)
    _count_view(request, viewer, notice_id=nid)
    return render(request, viewer, "notice.html", heading=t(f"area.{found['area']}"),
                  back=f"/tv/area/{found['area']}", page="notice", notice=found, media_tags=_media_tags,
                  present=rt.content.has)


@routes.get("/tv/play/{sha256}")
async def play(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    sha = request.match_info["sha256"]
    nid = request.query.get("notice", "")
    back = f"/tv/notice/{nid}" if nid and len(nid) <= 100 else "/tv/"
    if not is_sha256_hex(sha):
        raise web.HTTPFound(back)
    return render(request, viewer, "play.html", heading=TEXTS.translator(viewer.lang)("notice.play"), back=back,
                  page="play", src=f"/content/{sha}", live=False, stream_id="")


@routes.get("/tv/live/{stream_id}")
async def live(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    sid = request.match_info["stream_id"]
    area_code = request.query.get("area", "live")
    back = f"/tv/area/{area_code if area_code in AREAS else 'live'}"
    if not sid.replace("-", "").replace("_", "").isalnum() or len(sid) > 100:
        raise web.HTTPFound(back)
    title = request.query.get("title", "")[:100] or TEXTS.translator(viewer.lang)("live.heading")
    _count_view(request, viewer)
    return render(request, viewer, "play.html", heading=title, back=back, page="live",
                  src=f"/streams/{sid}/index.m3u8", live=True, stream_id=sid)


@routes.get("/tv/form/{name}")
async def form(request: web.Request) -> web.Response:
    spec = FORMS.get(request.match_info["name"])
    if spec is None:
        raise web.HTTPFound("/tv/")
    viewer = _viewer(request)
    t = TEXTS.translator(viewer.lang)
    return render(request, viewer, "form.html", heading=t(f"action.{spec.name}"), back=f"/tv/area/{spec.area}",
                  page=f"form-{spec.name}", spec=spec, labels=spec.labels_for_city(), max_text=MAX_TEXT)


@routes.get("/tv/mine")
async def mine(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    items: list[dict[str, Any]] = []
    if viewer.device is not None:
        items, _ = await device_submissions(request.app[RUNTIME].db, viewer.device.device_id, limit=200)
    shown = [s for s in items if s["kind"] not in _HIDDEN_KINDS]
    return render(request, viewer, "mine.html", heading=TEXTS.translator(viewer.lang)("mine.heading"), back="/tv/",
                  page="mine", items=shown)


@routes.get("/tv/mine/{id}")
async def mine_one(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    t = TEXTS.translator(viewer.lang)
    sub = None
    if viewer.device is not None:
        sub = await device_submission(request.app[RUNTIME].db, viewer.device.device_id, request.match_info["id"])
    if sub is None or viewer.device is None:
        return render(request, viewer, "gone.html", heading=t("mine.heading"), back="/tv/mine", page="mine-gone",
                      message=t("mine.not_found"), status=404)
    return render(request, viewer, "submission.html", heading=t(f"kind.{sub['kind']}"), back="/tv/mine",
                  page="submission", sub=sub, rating_id=viewer.device.rating_id(sub["id"]))


@routes.get("/tv/settings")
async def settings(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    return render(request, viewer, "settings.html", heading=TEXTS.translator(viewer.lang)("settings.heading"),
                  back="/tv/", page="settings")


@routes.get("/tv/settings/set")
async def settings_set(request: web.Request) -> web.Response:
    """Plain links change a setting (no script needed); the viewer keeps it in a cookie and we go back."""
    viewer = _viewer(request)
    response = web.HTTPFound("/tv/settings")
    remember(response, viewer)
    raise response

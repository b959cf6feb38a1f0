"""The meetings panel: schedule a village-hall meeting, show the encoder's ingest URL and key, start and stop it,
see how many homes watch, and run a vote with its live tally. The work itself is edge/streams' (meetings, votes).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.http_errors import read_form

from ..errors import Refused
from ..streams import meetings, votes
from ..streams.errors import StreamRefused
from ..streams.service import StreamsService
from .web import OFFICE, PREFIX, allow, done_name, render, runtime

routes = web.RouteTableDef()

DONE = ("scheduled", "started", "stopped", "vote_opened", "vote_closed")  # ?done=: catalog key done.<name>


def _service(request: web.Request) -> StreamsService:
    service = runtime(request).streams
    if service is None:
        raise Refused(503, "starting", "直播服务正在启动，请稍候再刷新。Streams are starting; reload in a moment.")
    return service


def _base_url(request: web.Request) -> str:
    """This box as the hall's encoder reaches it: the address the staff member's browser used."""
    return f"{request.scheme}://{request.host}"


async def _meeting_view(request: web.Request, service: StreamsService, m: meetings.Meeting,
                        question_id: str | None) -> dict[str, Any]:
    url, key = await meetings.ingest_url_and_key(service, m.id, _base_url(request))
    question = await votes.current_question(service.db, m.id)
    shown_id = question["id"] if question else question_id
    tally = None
    if shown_id:
        try:
            tally = await votes.tally(service.db, shown_id)
        except StreamRefused:
            tally = None
        if tally is not None and tally["stream_id"] != m.id:
            tally = None
    return {"id": m.id, "title": m.title, "agenda": m.agenda, "state": m.state, "ingest_url": url,
            "ingest_key": key, "viewers": service.viewers.count(m.id), "tally": tally,
            "watch_url": f"/streams/{m.id}/index.m3u8"}


async def _page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    service = _service(request)
    question_id = request.query.get("question")
    items = [await _meeting_view(request, service, m, question_id)
             for m in (await meetings.list_meetings(service.db))[:50]]
    done = done_name(request, DONE)
    return render(request, "meetings.html", status=status, meetings=items, error=error, done=done)


def _after(meeting_id: str, done: str, question: str | None = None) -> web.HTTPSeeOther:
    extra = f"&question={question}" if question else ""
    return web.HTTPSeeOther(f"{PREFIX}/meetings?done={done}{extra}#m-{meeting_id}")


@routes.get("/meetings")
@allow(*OFFICE)
async def meetings_page(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/meetings")
@allow(*OFFICE)
async def schedule(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        m = await meetings.schedule_meeting(_service(request), str(form.get("title", "")), str(form.get("agenda", "")))
    except StreamRefused as exc:
        return await _page(request, exc.detail, 400)
    raise _after(m.id, "scheduled")


@routes.post("/meetings/{id}/start")
@allow(*OFFICE)
async def start(request: web.Request) -> web.Response:
    try:
        m = await meetings.start_meeting(_service(request), request.match_info["id"])
    except StreamRefused as exc:
        return await _page(request, exc.detail, exc.status)
    raise _after(m.id, "started")


@routes.post("/meetings/{id}/stop")
@allow(*OFFICE)
async def stop(request: web.Request) -> web.Response:
    try:
        m = await meetings.stop_meeting(_service(request), request.match_info["id"])
    except StreamRefused as exc:
        return await _page(request, exc.detail, exc.status)
    raise _after(m.id, "stopped")


@routes.post("/meetings/{id}/vote")
@allow(*OFFICE)
async def open_vote(request: web.Request) -> web.Response:
    form = await read_form(request)
    choices = [c.strip() for c in str(form.get("choices", "")).splitlines() if c.strip()]
    meeting_id = request.match_info["id"]
    try:
        await meetings.require_meeting(_service(request).db, meeting_id)
        q = await votes.open_vote(_service(request), meeting_id, str(form.get("text", "")), choices)
    except StreamRefused as exc:
        return await _page(request, exc.detail, exc.status)
    raise _after(meeting_id, "vote_opened", q["id"])


@routes.post("/meetings/{id}/vote/{question}/close")
@allow(*OFFICE)
async def close_vote(request: web.Request) -> web.Response:
    question_id = request.match_info["question"]
    try:
        await votes.close_vote(_service(request), question_id)
    except StreamRefused as exc:
        return await _page(request, exc.detail, exc.status)
    raise _after(request.match_info["id"], "vote_closed", question_id)


@routes.get("/api/meetings")
@allow(*OFFICE)
async def meetings_json(request: web.Request) -> web.Response:
    """Viewer counts and tallies for the panel's live refresh."""
    service = _service(request)
    question_id = request.query.get("question")
    items = [await _meeting_view(request, service, m, question_id)
             for m in (await meetings.list_meetings(service.db))[:50]]
    return web.json_response({"meetings": items})

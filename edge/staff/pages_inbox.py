"""The inbox pages: the list with filters, one submission, a local reply, and "handed to the town"."""

from __future__ import annotations

from aiohttp import web

from edge.residents.households import missing_checkins
from edge.residents.inbox import STATES, list_inbox, parse_filters, submission_detail
from edge.residents.local_replies import add_local_reply, hand_to_town
from edge.residents.rules import Invalid, parse_uuid
from protocol.http_errors import read_form
from protocol.records import SUBMISSION_KINDS

from ..errors import Refused
from .web import OFFICE, PREFIX, allow, current, done_name, render, runtime, village_id

routes = web.RouteTableDef()

DONE = ("reply", "handover")  # ?done= after a form: the page says so (catalog key done.<name>)


def _no_such_submission() -> Refused:
    return Refused(404, "not_found", "这个事项不在本村的记录里。This submission is not on this box.")


def _submission_id(request: web.Request) -> str:
    try:
        return parse_uuid(request.match_info["id"], "id")
    except Invalid:
        raise _no_such_submission() from None


@routes.get("/inbox")
@allow(*OFFICE)
async def inbox(request: web.Request) -> web.Response:
    kind, state = parse_filters(dict(request.query))
    rt = runtime(request)
    return render(request, "inbox.html", items=await list_inbox(rt.db, kind, state), kind=kind or "",
                  state=state or "", kinds=SUBMISSION_KINDS, states=STATES,
                  missing=await missing_checkins(rt.db))


async def _detail_page(request: web.Request, sid: str, error: str = "", status: int = 200) -> web.Response:
    detail = await submission_detail(runtime(request).db, sid)
    if detail is None:
        raise _no_such_submission()
    done = done_name(request, DONE)
    return render(request, "submission.html", status=status, s=detail, error=error, done=done)


@routes.get("/inbox/{id}")
@allow(*OFFICE)
async def submission_page(request: web.Request) -> web.Response:
    return await _detail_page(request, _submission_id(request))


@routes.post("/inbox/{id}/reply")
@allow(*OFFICE)
async def reply(request: web.Request) -> web.Response:
    sid = _submission_id(request)
    form = await read_form(request)
    try:
        await add_local_reply(runtime(request).db, village_id(request), sid, str(form.get("text", "")),
                              current(request).username)
    except (ValueError, LookupError) as exc:
        return await _detail_page(request, sid, error=str(exc), status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/inbox/{sid}?done=reply")


@routes.post("/inbox/{id}/handover")
@allow(*OFFICE)
async def handover(request: web.Request) -> web.Response:
    sid = _submission_id(request)
    form = await read_form(request)
    try:
        await hand_to_town(runtime(request).db, village_id(request), sid, current(request).username,
                           str(form.get("note", "")))
    except (ValueError, LookupError) as exc:
        return await _detail_page(request, sid, error=str(exc), status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/inbox/{sid}?done=handover")


@routes.get("/api/inbox")
@allow(*OFFICE)
async def inbox_json(request: web.Request) -> web.Response:
    kind, state = parse_filters(dict(request.query))
    items = await list_inbox(runtime(request).db, kind, state)
    return web.json_response({"submissions": items})


@routes.get("/api/checkins/missing")
@allow(*OFFICE)
async def missing_json(request: web.Request) -> web.Response:
    return web.json_response({"households": await missing_checkins(runtime(request).db)})


@routes.get("/api/inbox/{id}")
@allow(*OFFICE)
async def submission_json(request: web.Request) -> web.Response:
    detail = await submission_detail(runtime(request).db, _submission_id(request))
    if detail is None:
        raise _no_such_submission()
    return web.json_response(detail)

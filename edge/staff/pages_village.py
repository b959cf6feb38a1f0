"""Pages for the village itself: its notices, its households and their STBs (pairing), elderly living alone."""

from __future__ import annotations

from aiohttp import web

from edge.notices.village import (
    list_village_notices,
    parse_notice_form,
    publish_village_notice,
    withdraw_village_notice,
)
from edge.residents.households import (
    create_household,
    list_households,
    missing_checkins,
    pair_by_code,
    set_elderly_alone,
    unpair,
)
from protocol.http_errors import read_form
from protocol.records import AREAS, PRIORITIES

from .web import ALL_ROLES, OFFICE, PREFIX, allow, current, done_name, render, runtime, village_id

routes = web.RouteTableDef()

DONE = ("published", "withdrawn", "household", "paired", "unpaired", "elderly")  # ?done=: catalog key done.<name>


def _done(request: web.Request) -> str:
    return done_name(request, DONE)


async def _notices_page(request: web.Request, error: str = "", status: int = 200,
                        form: dict[str, str] | None = None) -> web.Response:
    return render(request, "notices.html", status=status, notices=await list_village_notices(runtime(request).db),
                  areas=AREAS, priorities=PRIORITIES, error=error, done=_done(request),
                  form=form or {})


@routes.get("/notices")
@allow(*OFFICE)
async def notices(request: web.Request) -> web.Response:
    return await _notices_page(request)


@routes.post("/notices")
@allow(*OFFICE)
async def publish(request: web.Request) -> web.Response:
    form = {k: str(v) for k, v in (await read_form(request)).items() if k != "csrf"}
    try:
        fields = parse_notice_form(form)
    except ValueError as exc:
        return await _notices_page(request, str(exc), 400, form)
    await publish_village_notice(runtime(request).db, village_id(request), fields, current(request).username)
    raise web.HTTPSeeOther(f"{PREFIX}/notices?done=published")


@routes.post("/notices/{id}/withdraw")
@allow(*OFFICE)
async def withdraw(request: web.Request) -> web.Response:
    await withdraw_village_notice(runtime(request).db, village_id(request), request.match_info["id"][:100])
    raise web.HTTPSeeOther(f"{PREFIX}/notices?done=withdrawn")


async def _households_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    db = runtime(request).db
    return render(request, "households.html", status=status, households=await list_households(db),
                  missing={h["id"] for h in await missing_checkins(db)}, error=error, done=_done(request))


@routes.get("/households")
@allow(*ALL_ROLES)
async def households(request: web.Request) -> web.Response:
    return await _households_page(request)


@routes.post("/households")
@allow(*ALL_ROLES)
async def add_household(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        await create_household(runtime(request).db, str(form.get("name", "")), str(form.get("address", "")),
                               form.get("elderly_alone") == "1")
    except ValueError as exc:
        return await _households_page(request, str(exc), 400)
    raise web.HTTPSeeOther(f"{PREFIX}/households?done=household")


@routes.post("/households/{id}/pair")
@allow(*ALL_ROLES)
async def pair(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        await pair_by_code(runtime(request).db, request.match_info["id"], str(form.get("code", "")))
    except (ValueError, LookupError) as exc:
        return await _households_page(request, str(exc), 400)
    raise web.HTTPSeeOther(f"{PREFIX}/households?done=paired")


@routes.post("/households/{id}/elderly")
@allow(*OFFICE)
async def elderly(request: web.Request) -> web.Response:
    form = await read_form(request)
    try:
        await set_elderly_alone(runtime(request).db, request.match_info["id"], form.get("elderly_alone") == "1")
    except LookupError as exc:
        return await _households_page(request, str(exc), 404)
    raise web.HTTPSeeOther(f"{PREFIX}/households?done=elderly")


@routes.post("/devices/{device_id}/unpair")
@allow(*ALL_ROLES)
async def unpair_device(request: web.Request) -> web.Response:
    await unpair(runtime(request).db, request.match_info["device_id"][:64])
    raise web.HTTPSeeOther(f"{PREFIX}/households?done=unpaired")

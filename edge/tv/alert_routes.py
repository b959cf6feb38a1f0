"""Emergency alerts over HTTP for TV pages: server-sent events, a long poll and a short poll, plus shown/ack logs.

A page uses the first its browser manages; all three answer the same `{alerts: [...], version}`. An acknowledgement
needs the device's token and hides the alert on that device only. Reading needs no token: a caller that does not
prove who it is sees every current alert (a TV whose identity broke must still be warned of a flood); with a
token it sees what its device has not acknowledged, and naming another device is refused.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from edge.lan.discovery import normalize_device_id
from edge.notices.alerts import AlertBoard, acknowledge, note_shown, pending_alerts
from protocol.http_errors import read_json

from ..api_devices import device_acting_as, registry, request_token
from ..errors import Refused
from ..runtime import RUNTIME

routes = web.RouteTableDef()
ALERT_BOARD = web.AppKey("alert_board", AlertBoard)
_KEEPALIVE_S = 15.0


def _device(value: Any) -> str:
    device = normalize_device_id(value)
    if device is None:
        raise Refused(400, "bad_device", "device must be 1 to 64 letters, digits or ._:- (the STB's id)")
    return device


def _reader(request: web.Request) -> str | None:
    """Whose acknowledgements to leave out: the token's device (which `?device=` may name, never another).

    A token this box does not know counts as none: a TV whose identity was lost (a reset box) still gets every
    alert instead of a refusal its page would retry forever.
    """
    named = request.query.get("device") or None  # empty: a page that has not registered yet
    if named is not None:
        _device(named)
    if registry(request).identify(request_token(request)) is None:
        return None
    return device_acting_as(request, named).device_id


async def _payload(request: web.Request, device: str | None) -> dict[str, Any]:
    board = request.app[ALERT_BOARD]
    return {"alerts": await pending_alerts(request.app[RUNTIME].db, device), "version": board.version}


@routes.get("/api/v1/alerts")
async def alerts_now(request: web.Request) -> web.Response:
    return web.json_response(await _payload(request, _reader(request)))


@routes.get("/api/v1/alerts/wait")
async def alerts_wait(request: web.Request) -> web.Response:
    device = _reader(request)
    try:
        since = int(request.query.get("version", "-1"))
    except ValueError:
        raise Refused(400, "bad_version", "version must be the whole number the last answer carried") from None
    board = request.app[ALERT_BOARD]
    if since == board.version:
        await board.wait_change(since, request.app[RUNTIME].config.alert_wait_s)
    return web.json_response(await _payload(request, device))


@routes.get("/api/v1/alerts/events")
async def alerts_events(request: web.Request) -> web.StreamResponse:
    device = _reader(request)
    board = request.app[ALERT_BOARD]
    if board.streams >= board.max_streams:
        raise Refused(503, "too_many_streams", "too many open alert streams; poll /api/v1/alerts/wait instead")
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    board.streams += 1
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\n\n")
        sent = -1
        while not board.closed:
            if board.version != sent:
                sent = board.version
                data = json.dumps(await _payload(request, device), ensure_ascii=False)
                await response.write(f"event: alerts\ndata: {data}\n\n".encode())
            else:
                await response.write(b": still here\n\n")
            await board.wait_change(sent, _KEEPALIVE_S)
    except ConnectionResetError:
        pass  # the page went away; nothing to tell anyone
    finally:
        board.streams -= 1
    return response


async def _log(request: web.Request, action: str) -> web.Response:
    payload = await read_json(request, 1024)
    if not isinstance(payload, dict):
        raise Refused(400, "wrong_type", "the body must be a JSON object with device_id")
    device = device_acting_as(request, _device(payload.get("device_id"))).device_id
    nid = request.match_info["id"]
    db = request.app[RUNTIME].db
    done = await (acknowledge(db, device, nid) if action == "ack" else note_shown(db, device, nid))
    if not done:
        raise Refused(404, "not_an_alert", f"there is no emergency notice {nid[:100]} on this box")
    return web.json_response({"id": nid, "device_id": device, "logged": action})


@routes.post("/api/v1/alerts/{id}/shown")
async def alert_shown(request: web.Request) -> web.Response:
    return await _log(request, "shown")


@routes.post("/api/v1/alerts/{id}/ack")
async def alert_ack(request: web.Request) -> web.Response:
    return await _log(request, "ack")

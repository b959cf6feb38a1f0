"""Routes used by STBs and phones: info, notices, submissions and content. Handlers parse and answer only."""

from __future__ import annotations

from aiohttp import web

from edge.content.cache import CONTENT_CACHE, IMMUTABLE_HEADERS
from edge.lan.discovery import normalize_device_id
from edge.notices.board import list_notices
from edge.residents.my_submissions import device_submissions, submission_owner
from edge.residents.outbox import submission_view
from edge.residents.quotas import OverQuota
from edge.residents.rules import MAX_SUBMISSION_BYTES, Invalid, parse_submission, parse_uuid
from protocol.http_errors import read_json
from protocol.records import AREAS, is_sha256_hex

from .api_devices import device_acting_as
from .errors import NotProvisioned, Refused
from .runtime import RUNTIME
from .status import VERSION

routes = web.RouteTableDef()


def _touch_device(request: web.Request) -> None:
    """A request carrying a device id is a sign of life from that STB, beside mDNS."""
    device_id = request.headers.get("X-Device-Id")
    if device_id and len(device_id) <= 64:
        request.app[RUNTIME].devices.touch(device_id, request.remote)


@routes.get("/api/v1/info")
async def info(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    state = rt.holder.current
    return web.json_response(
        {
            "node_id": rt.holder.key.node_id,
            "village_id": state.village_id if state else None,
            "village_name": state.village_name if state else None,
            "api": 1,
            "version": VERSION,
            "provisioned": state is not None,
        }
    )


@routes.get("/api/v1/notices")
async def notices(request: web.Request) -> web.Response:
    _touch_device(request)
    area = request.query.get("area")
    if area is not None and area not in AREAS:
        raise Refused(400, "unknown_area", f"area must be one of {', '.join(AREAS)}")
    return web.json_response({"notices": await list_notices(request.app[RUNTIME].db, area)})


@routes.post("/api/v1/submissions")
async def post_submission(request: web.Request) -> web.Response:
    _touch_device(request)
    rt = request.app[RUNTIME]
    state = rt.holder.current
    if state is None:
        raise NotProvisioned()
    payload = await read_json(request, MAX_SUBMISSION_BYTES)
    sub = parse_submission(payload)
    device_acting_as(request, sub["device_id"])  # a body naming another device than the token's is refused
    outcome = await rt.outbox.submit(state.village_id, sub)
    if outcome.status == 409:
        raise Refused(409, "conflict", f"submission {sub['id']} already exists with a different body")
    if outcome.status == 403:
        raise Refused(403, "not_paired", "这台电视还没有和您家配对，投票不能计入。请在“设置”里查看配对码，请村干部配对。"
                      " Votes count once per household: ask the village staff to pair this device first.")
    if outcome.over is not None:
        raise _over_quota(outcome.over)
    if outcome.status == 201:
        return web.json_response({"id": outcome.submission_id, "state": "queued"}, status=201)
    view = await submission_view(rt.db, outcome.submission_id)
    assert view is not None
    return web.json_response({"id": outcome.submission_id, "state": view["state"]}, status=200)


def _over_quota(over: OverQuota) -> Refused:
    """429 with Retry-After and a sentence the TV shows (nothing was stored)."""
    minutes = max(1, round(over.retry_after_s / 60))
    if over.which == "device":
        detail = (f"这台电视一小时内已经提交了 {over.limit} 次，请 {minutes} 分钟后再提交。"
                  f" This TV has sent {over.limit} submissions in the last hour; try again in {minutes} min.")
    else:
        detail = (f"全村今天的提交已经达到 {over.limit} 条的上限，请 {minutes} 分钟后再试，急事请直接联系村委会。"
                  f" The village has reached its {over.limit} submissions for today; try again in {minutes} min,"
                  " or call the village committee if it is urgent.")
    return Refused(429, f"too_many_submissions_{over.which}", detail, retry_after_s=over.retry_after_s)


@routes.get("/api/v1/submissions")
async def my_submissions(request: web.Request) -> web.Response:
    """One device's own submissions ("my submissions"), newest first, with state, replies and its rating."""
    named = request.query.get("device_id")
    if named is not None and normalize_device_id(named) is None:
        raise Refused(400, "bad_device", "device_id must be 1 to 64 letters, digits or ._:- (the STB's id)")
    device = device_acting_as(request, named)
    items, cursor = await device_submissions(request.app[RUNTIME].db, device.device_id, request.query.get("cursor"))
    return web.json_response({"submissions": items, **({"next": cursor} if cursor else {})})


@routes.get("/api/v1/submissions/{id}")
async def get_submission(request: web.Request) -> web.Response:
    _touch_device(request)
    try:
        sid = parse_uuid(request.match_info["id"], "id")
    except Invalid as exc:  # a bad id in the URL is a bad request (400), not a bad body (422)
        raise Refused(400, exc.code, exc.detail) from None
    device = device_acting_as(request, None)
    db = request.app[RUNTIME].db
    owner = await submission_owner(db, sid)
    if owner is None:
        raise Refused(404, "not_found", f"no submission {sid} on this box")
    if owner != device.device_id:
        raise Refused(403, "not_your_submission", f"submission {sid} was sent by another device")
    view = await submission_view(db, sid)
    assert view is not None
    return web.json_response(view)


@routes.get("/content/{sha256}")
async def content(request: web.Request) -> web.StreamResponse:
    sha256 = request.match_info["sha256"]
    if not is_sha256_hex(sha256):
        raise Refused(400, "bad_hash", "content is addressed by 64 lowercase hex digits of SHA-256")
    cache = request.app.get(CONTENT_CACHE)
    if cache is not None:
        return await cache.serve(request, sha256)  # notes the use for LRU; asks again for an evicted blob
    store = request.app[RUNTIME].content
    if not store.has(sha256):
        raise Refused(404, "not_here_yet", "this content has not reached the village yet")
    # FileResponse answers Range (206/416), If-None-Match and If-Range itself, with sendfile.
    return web.FileResponse(store.path_for(sha256), headers=IMMUTABLE_HEADERS)

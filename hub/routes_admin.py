"""HTTP routes for city staff and operators: blobs, villages, submissions, replies, metrics, /admin/.

Every route here needs the admin token (notices, with review, are in routes_notices.py); handlers parse and
answer, the domain modules decide.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from protocol.http_errors import ApiError, read_json

from . import admin_page, metrics, pages_notices, replies
from .actors import require_role
from .auth import ADMIN_COOKIE, require_admin, token_ok
from .page_render import PAGE_HEADERS, page_actor
from .scopes import covers_placed
from .services import HUB
from .session_auth import require_actor
from .status_poller import is_online
from .validate import int_param, is_mime, require_uuid, require_village_id, rfc3339

MAX_JSON = 64 * 1024
MAX_PAGE = 1000

routes = web.RouteTableDef()
_dumps = partial(json.dumps, ensure_ascii=False)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _page(request: web.Request) -> tuple[int | None, int]:
    """(cursor, limit) of a list route: `cursor` from the previous answer's `next`, `limit` up to 1,000."""
    cursor = request.query.get("cursor")
    before = int_param(cursor, "cursor", 0, 1, 2**62) if cursor else None
    return before, int_param(request.query.get("limit"), "limit", MAX_PAGE, 1, MAX_PAGE)


# blobs


@routes.post("/api/v1/blobs")
async def upload_blob(request: web.Request) -> web.Response:
    """The admin token, or an editor uploading a notice's attachment or video."""
    actor = require_actor(request)
    if actor.is_official:
        require_role(actor, "editor")
    hub = request.app[HUB]
    cap = hub.config.max_blob_bytes
    if request.content_length is not None and request.content_length > cap:
        raise ApiError(413, "too_large", f"the blob is larger than {cap} bytes")
    mime = request.content_type if is_mime(request.content_type) else "application/octet-stream"
    sha, size = await hub.blobs.receive(request.content.iter_chunked(256 * 1024), cap, mime)
    return _json({"sha256": sha, "size": size}, status=201)  # exactly the contract's shape


# villages, submissions, replies


@routes.get("/api/v1/villages")
async def list_villages(request: web.Request) -> web.Response:
    """The admin token sees every village; an official those in its scope (with the town's name beside its id)."""
    actor = require_actor(request)
    hub = request.app[HUB]
    after = request.query.get("cursor", "")
    if after:
        require_village_id(after, "cursor")
    limit = int_param(request.query.get("limit"), "limit", MAX_PAGE, 1, MAX_PAGE)
    villages = await hub.store.list_villages(after, limit + 1)
    more = len(villages) > limit
    villages = villages[:limit]
    next_cursor = villages[-1].id if more else None
    villages = [v for v in villages if covers_placed(actor.scope, f"village:{v.id}", v.town_id)]
    statuses = await hub.store.status_rows()
    out = []
    for v in villages:
        status = statuses.get(v.id)
        doc = (status.document if status else None) or {}
        edge_sync = doc.get("last_sync_at")
        last_sync = rfc3339(v.last_sync_at) or (rfc3339(edge_sync) if isinstance(edge_sync, int | float) else None)
        out.append({
            "id": v.id,
            "name": v.name,
            "town": v.town_id,
            "town_name": v.town_name,
            "online": is_online(status, hub.config),
            "enrolled": v.edge_key is not None,
            "node_id": v.node_id,
            "edge_url": v.edge_url,
            "last_status_at": rfc3339(status.last_status_at) if status else None,
            "last_sync_at": last_sync,
            "queue_depth": doc.get("queue_depth"),
            "stb_count": doc.get("stb_count"),
            "version": doc.get("version"),
            "consecutive_failures": status.consecutive_failures if status else 0,
            "last_error": status.last_error if status else None,
        })
    return _json({"villages": out, "next": next_cursor})


@routes.get("/api/v1/submissions")
async def list_submissions(request: web.Request) -> web.Response:
    require_admin(request)
    store = request.app[HUB].store
    village = request.query.get("village")
    if village is not None:
        require_village_id(village, "village")
    before, limit = _page(request)
    subs = await store.list_submissions(village, before, limit + 1)
    more = len(subs) > limit
    subs = subs[:limit]
    by_sub = await store.replies_for(subs)
    return _json({
        "submissions": [s.to_json(by_sub[(s.village_id, s.id)]) for s in subs],
        "next": str(subs[-1].n) if more else None,
    })


@routes.post("/api/v1/submissions/{id}/replies")
async def add_reply(request: web.Request) -> web.Response:
    require_admin(request)
    submission_id = require_uuid(request.match_info["id"], "the submission id")
    village = request.query.get("village")
    if village is not None:
        require_village_id(village, "village")
    hub = request.app[HUB]
    reply = await replies.add_reply(hub.store, hub.down, submission_id, await read_json(request, MAX_JSON), village)
    return _json({**reply.to_json(), "submission_id": reply.submission_id, "village_id": reply.village_id},
                 status=201)


# operators


@routes.get("/metrics")
async def prometheus(request: web.Request) -> web.Response:
    require_admin(request)
    text = await metrics.render(request.app[HUB])
    return web.Response(body=text.encode("utf-8"), headers={"Content-Type": metrics.CONTENT_TYPE})


@routes.get("/admin/")
async def admin(request: web.Request) -> web.Response:
    """The staff page. A browser cannot send a bearer header, so `?token=` once sets a cookie for this page."""
    query_token = request.query.get("token")
    if query_token is not None:
        if not token_ok(request, query_token):
            return _login(request, "管理令牌不正确，请重新输入。")
        # Redirect so the token leaves the address bar and the history.
        resp = web.HTTPSeeOther("/admin/")
        resp.set_cookie(ADMIN_COOKIE, query_token, httponly=True, samesite="Strict", path="/admin/",
                        secure=request.secure)
        raise resp
    actor = page_actor(request)
    if actor is None:
        return _login(request, "")
    if actor.is_official:
        return await pages_notices.worklist(request)
    # The admin token (set-up scripts, the demo) gets the city-wide overview; it acts through the API only.
    return await admin_page.render_admin(request, actor)


def _login(request: web.Request, message: str) -> web.Response:
    """401: a login form for browsers, the usual `{error, detail}` for everyone else."""
    if "text/html" not in request.headers.get("Accept", ""):
        raise ApiError(401, "unauthorized", "the admin page needs the token from admin.token")
    return web.Response(status=401, text=admin_page.render_login(message), content_type="text/html",
                        headers=PAGE_HEADERS)


@routes.get("/admin")
async def admin_slash(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/admin/")

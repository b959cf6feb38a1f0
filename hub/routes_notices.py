"""HTTP routes of notices: create, edit, submit, approve, reject, publish, withdraw, list and read.

The admin token drafts and publishes at once as before review existed; named officials go through review
(hub/notice_review.py decides). Answers carry the targets' names beside their ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from protocol.http_errors import read_json

from . import notice_review, notices
from .actors import Actor
from .errors import NotFound
from .json_answers import MAX_JSON, action_body, json_answer
from .models import Notice
from .services import HUB, Hub
from .session_auth import require_actor
from .validate import choice_field, int_param, require_uuid

MAX_PAGE = 1000
routes = web.RouteTableDef()


Names = tuple[dict[str, str], dict[str, str]]  # places' and officials' names


async def _names(request: web.Request) -> Names:
    store = request.app[HUB].store
    return await store.place_names(), await store.official_names()


def _with_names(notice: Notice, names: Names) -> dict[str, object]:
    places, people = names
    return {**notice.to_json(), "target_names": [places.get(t, t) for t in notice.targets],
            "author_name": people.get(notice.author or "", None),
            "reviewed_by_name": people.get(notice.reviewed_by or "", None)}


async def _answer(request: web.Request, notice: Notice, status: int = 200) -> web.Response:
    return json_answer(_with_names(notice, await _names(request)), status=status)


def _notice_id(request: web.Request) -> str:
    return require_uuid(request.match_info["id"], "the notice id")


@routes.post("/api/v1/notices")
async def create_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    hub = request.app[HUB]
    notice, created = await notice_review.create(hub.store, hub.blobs, actor, await read_json(request, MAX_JSON))
    return await _answer(request, notice, status=201 if created else 200)


@routes.patch("/api/v1/notices/{id}")
async def edit_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    notice_id = _notice_id(request)
    hub = request.app[HUB]
    notice = await notice_review.edit(hub.store, hub.blobs, actor, notice_id, await read_json(request, MAX_JSON))
    return await _answer(request, notice)


Step = Callable[[Hub, Actor, str, dict[str, Any]], Awaitable[Notice]]


async def _act(request: web.Request, step: Step) -> web.Response:
    """An action on one notice: who, which, the (small) body, then the step decides."""
    actor = require_actor(request)
    notice_id = _notice_id(request)
    body = await action_body(request)
    return await _answer(request, await step(request.app[HUB], actor, notice_id, body))


@routes.post("/api/v1/notices/{id}/submit")
async def submit_notice(request: web.Request) -> web.Response:
    return await _act(request, lambda hub, actor, nid, _: notice_review.submit(hub.store, actor, nid))


@routes.post("/api/v1/notices/{id}/approve")
async def approve_notice(request: web.Request) -> web.Response:
    return await _act(request, lambda hub, actor, nid, _: notice_review.approve(
        hub.store, hub.down, hub.blobs, actor, nid))


@routes.post("/api/v1/notices/{id}/reject")
async def reject_notice(request: web.Request) -> web.Response:
    return await _act(request, lambda hub, actor, nid, body: notice_review.reject(hub.store, actor, nid, body))


@routes.post("/api/v1/notices/{id}/publish")
async def publish_notice(request: web.Request) -> web.Response:
    return await _act(request, lambda hub, actor, nid, _: notice_review.publish_now(
        hub.store, hub.down, hub.blobs, actor, nid))


@routes.post("/api/v1/notices/{id}/withdraw")
async def withdraw_notice(request: web.Request) -> web.Response:
    return await _act(request, lambda hub, actor, nid, _: notice_review.withdraw(hub.store, hub.down, actor, nid))


@routes.get("/api/v1/notices")
async def list_notices(request: web.Request) -> web.Response:
    """Newest first. An official sees notices with a target in its scope and its own; `mine=true` only its own,
    `state=in_review` the review queue."""
    actor = require_actor(request)
    state = choice_field(dict(request.query), "state", notices.STATES) if "state" in request.query else None
    cursor = request.query.get("cursor")
    before = int_param(cursor, "cursor", 0, 1, 2**62) if cursor else None
    limit = int_param(request.query.get("limit"), "limit", MAX_PAGE, 1, MAX_PAGE)
    mine = request.query.get("mine") == "true"
    store = request.app[HUB].store
    items = await store.list_notices(state, before, limit + 1, within=actor.scope, viewer=actor.user,
                                     author=actor.user if mine else None)
    more = len(items) > limit
    items = items[:limit]
    names = await _names(request)
    return json_answer({"notices": [_with_names(n, names) for n in items], "next": str(items[-1].n) if more else None})


@routes.get("/api/v1/notices/{id}")
async def get_notice(request: web.Request) -> web.Response:
    actor = require_actor(request)
    notice_id = _notice_id(request)
    store = request.app[HUB].store
    notice = await store.get_notice(notice_id)
    if notice is None:
        raise NotFound(f"没有这条通知。No notice {notice_id}.", "unknown_notice")
    await notice_review.require_readable(store, actor, notice)
    return await _answer(request, notice)

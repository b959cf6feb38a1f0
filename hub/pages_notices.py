"""The officials' notice pages: the worklist, the editor with its scope picker and uploads, the review queue, and
the preview that shows a notice as a village TV will.

Pages only read; every change goes through the JSON API (hub/routes_notices.py) from the page's script, so the
rules of review live in one place (hub/notice_review.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import notice_review
from .actors import Actor
from .errors import NotFound
from .models import Notice
from .org import org_tree
from .page_render import AREA_KEYS, refuse_page, render_page, require_page_actor
from .scopes import covers_all
from .services import HUB
from .store import HubStore
from .validate import require_uuid

RECENT = 20
QUEUE = 200


@dataclass(frozen=True)
class NoticeRow:
    """A notice as the page lists it: the record, and its targets by name."""

    notice: Notice
    target_names: list[str]

    @property
    def id(self) -> str:
        return self.notice.id


async def _rows(store: HubStore, notices: list[Notice]) -> list[NoticeRow]:
    names = await store.place_names()
    return [NoticeRow(n, [names.get(t, t) for t in n.targets]) for n in notices]


async def _list(store: HubStore, actor: Actor, state: str, mine: bool, limit: int = RECENT) -> list[Notice]:
    return await store.list_notices(state, None, limit, within=actor.scope, viewer=actor.user,
                                    author=actor.user if mine else None)


async def review_queue(store: HubStore, actor: Actor) -> list[Notice]:
    """Notices in review that this reviewer may decide: every target in its scope, and not its own."""
    if "reviewer" not in actor.roles:
        return []
    waiting = await _list(store, actor, "in_review", mine=False, limit=QUEUE)
    return [n for n in waiting if n.author != actor.user and await covers_all(store, actor.scope, n.targets)]


async def worklist(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    store = request.app[HUB].store
    mine: dict[str, list[NoticeRow]] = {}
    if "editor" in actor.roles and actor.is_official:
        for state in ("draft", "in_review", "rejected", "scheduled"):
            mine[state] = await _rows(store, await _list(store, actor, state, mine=True))
    return await render_page(
        request, actor, "worklist.html", "worklist", mine=mine,
        to_review=await _rows(store, await review_queue(store, actor)),
        published=await _rows(store, await _list(store, actor, "published", mine=False)),
    )


async def _picker(store: HubStore, actor: Actor) -> dict[str, Any]:
    """The places an editor may target, by name: the city (for a city editor), towns and their villages."""
    tree = await org_tree(store, actor)
    towns = []
    for town in tree["towns"]:
        whole_town = await covers_all(store, actor.scope, [f"town:{town['id']}"])
        if whole_town or town["villages"]:
            towns.append({**town, "selectable": whole_town})
    return {"city": actor.scope == "city", "towns": towns}


async def _readable(request: web.Request, actor: Actor) -> Notice:
    store = request.app[HUB].store
    notice_id = require_uuid(request.match_info["id"], "the notice id")
    notice = await store.get_notice(notice_id)
    if notice is None:
        raise NotFound(f"没有这条通知。No notice {notice_id}.", "unknown_notice")
    await notice_review.require_readable(store, actor, notice)
    return notice


async def editor(request: web.Request) -> web.Response:
    """A new draft, or (with an id) the author's draft or rejected notice to edit and submit again."""
    actor = require_page_actor(request)
    if "editor" not in actor.roles or not actor.is_official:
        return await refuse_page(request, actor, "refused.editor")
    store = request.app[HUB].store
    notice = await _readable(request, actor) if "id" in request.match_info else None
    if notice is not None and (notice.author != actor.user or notice.state not in ("draft", "rejected")):
        return await refuse_page(request, actor, "refused.not_editable")
    row = (await _rows(store, [notice]))[0] if notice else None
    return await render_page(request, actor, "editor.html", "editor", notice=row, picker=await _picker(store, actor),
                             areas=AREA_KEYS, chosen=set(notice.targets) if notice else set(),
                             may_publish_emergency="reviewer" in actor.roles)


async def review_list(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    if "reviewer" not in actor.roles:
        return await refuse_page(request, actor, "refused.reviewer")
    store = request.app[HUB].store
    return await render_page(request, actor, "review.html", "review",
                             queue=await _rows(store, await review_queue(store, actor)))


async def review_one(request: web.Request) -> web.Response:
    """One notice with its TV preview, and approve / reject (and publish at once for an emergency)."""
    actor = require_page_actor(request)
    if "reviewer" not in actor.roles:
        return await refuse_page(request, actor, "refused.reviewer")
    store = request.app[HUB].store
    notice = await _readable(request, actor)
    decidable = (notice.state == "in_review" and notice.author != actor.user
                 and await covers_all(store, actor.scope, notice.targets))
    author = await store.get_official(notice.author) if notice.author else None
    return await render_page(request, actor, "review_one.html", "review", notice=(await _rows(store, [notice]))[0],
                             decidable=decidable and actor.is_official,
                             author=f"{author.name}（{author.username}）" if author else notice.author)


async def tv_preview(request: web.Request) -> web.Response:
    """The notice screen of the TV app at 1280×720, rebuilt with its layout rules (the page is framed scaled)."""
    actor = require_page_actor(request)
    notice = await _readable(request, actor)
    return await render_page(request, actor, "tv_preview.html", "preview", notice=notice,
                             paragraphs=[p for p in notice.body.split("\n") if p.strip()])

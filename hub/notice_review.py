"""Review before publishing: an editor drafts inside its scope and submits; a reviewer whose scope covers every
target, and who is not the author, approves (published now, or at publish_at) or rejects with a reason, after
which the editor may edit and submit again. The admin token publishes at once, as before review existed; a
reviewer in scope may publish an `emergency` notice at once too.

Every step checks roles and scope before changing anything, is idempotent when replayed, and is audited in the
same transaction as the change.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from . import audit
from .actors import SCHEDULER, Actor, require_role, require_scope
from .blobs import BlobStore
from .down_feed import DownFeed
from .errors import Conflict, Forbidden, Unprocessable
from .models import Notice
from .notices import held, parse_notice, publish_in, same_content, withdraw_in
from .scopes import common_scope, covers
from .store import HubStore
from .store_tx import Tx
from .validate import now, require_object, text_field

log = logging.getLogger(__name__)

MAX_REASON = 500
EDITABLE = ("draft", "rejected")


async def _record(tx: Tx, actor: Actor, action: str, notice: Notice, detail: str = "") -> None:
    await audit.record(tx, actor.user, action, f"notice:{notice.id}", await common_scope(tx, notice.targets),
                       detail or notice.title)


def _named_user(actor: Actor) -> str | None:
    """The official's user name; None for the admin token (a notice it makes has no author to keep from review)."""
    return actor.user if actor.is_official else None


async def _check_targets(tx: Tx, actor: Actor, notice: Notice) -> None:
    """An editor's targets lie inside its scope (out_of_scope first: an unknown place is outside it too)."""
    if actor.is_official:
        await require_scope(tx, actor, notice.targets)
    if not await tx.scope_target_exists(notice.scope):
        raise Unprocessable(f"scope {notice.scope} names no registered town or village", "unknown_scope")


async def create(store: HubStore, blobs: BlobStore, actor: Actor, raw: Any) -> tuple[Notice, bool]:
    """A draft; (notice, created). The same client `id` with the same content again is the first draft."""
    if actor.is_official:
        require_role(actor, "editor")
    notice = replace(await parse_notice(raw, blobs), author=_named_user(actor))
    async with store.transaction() as tx:
        existing = await tx.get_notice(notice.id)
        if existing is not None:
            if same_content(existing, notice):
                return existing, False
            raise Conflict(f"通知编号 {notice.id} 已被另一条通知使用。The id {notice.id} is taken by another notice.",
                           "id_taken")
        await _check_targets(tx, actor, notice)
        await tx.insert_notice(notice)
        await _record(tx, actor, "notice_create", notice)
        stored = await held(tx, notice.id)
    return stored, True


async def _as_author(tx: Tx, actor: Actor, notice_id: str) -> Notice:
    notice = await held(tx, notice_id)
    if actor.is_official and notice.author != actor.user:
        raise Forbidden("只有起草人可以修改或提交这条通知。Only the notice's author may edit or submit it.", "forbidden")
    return notice


async def edit(store: HubStore, blobs: BlobStore, actor: Actor, notice_id: str, raw: Any) -> Notice:
    """Change a draft or a rejected notice (it becomes a draft again); refused while in review or once out."""
    async with store.transaction() as tx:
        notice = await _as_author(tx, actor, notice_id)
    if notice.state == "in_review":
        raise Conflict("这条通知正在审核中，不能修改；请审核员先退回。The notice is in review and cannot be edited;"
                       " a reviewer must reject it first.", "in_review")
    if notice.state not in EDITABLE:
        raise Conflict(f"这条通知已{'发布' if notice.state != 'withdrawn' else '撤回'}，不能修改。"
                       f" A {notice.state} notice cannot be edited.", "not_editable")
    changed = await parse_notice(raw, blobs, base=notice)
    async with store.transaction() as tx:
        current = await _as_author(tx, actor, notice_id)
        if current.state != notice.state or current.updated_at != notice.updated_at:
            raise Conflict("这条通知刚被别人改动过，请刷新后再改。The notice changed meanwhile; reload it.", "changed")
        await _check_targets(tx, actor, changed)
        await tx.update_notice_content(changed)
        await _record(tx, actor, "notice_edit", changed)
        return await held(tx, notice_id)


async def submit(store: HubStore, actor: Actor, notice_id: str) -> Notice:
    async with store.transaction() as tx:
        notice = await _as_author(tx, actor, notice_id)
        if notice.state == "in_review":
            return notice  # a replayed submit
        if notice.state not in EDITABLE:
            raise Conflict(f"A {notice.state} notice cannot be submitted for review.", "not_submittable")
        await tx.set_notice_review(notice_id, "in_review", None, None)
        await _record(tx, actor, "notice_submit", notice)
        return await held(tx, notice_id)


async def _as_reviewer(tx: Tx, actor: Actor, notice: Notice) -> None:
    """A reviewer whose scope covers every target and who did not write the notice."""
    require_role(actor, "reviewer")
    await require_scope(tx, actor, notice.targets)
    if notice.author is not None and notice.author == actor.user:
        raise Forbidden("不能审核自己起草的通知，请由另一位审核员审核。You wrote this notice; another reviewer must"
                        " approve or reject it.", "forbidden")


async def approve(store: HubStore, down: DownFeed, blobs: BlobStore, actor: Actor, notice_id: str) -> Notice:
    """Approve: published now into the villages in scope, or scheduled for its publish_at."""
    async with store.transaction() as tx:
        notice = await held(tx, notice_id)
        await _as_reviewer(tx, actor, notice)
        if notice.state in ("published", "scheduled") and notice.reviewed_by == actor.user:
            return notice  # a replayed approve publishes nothing twice
        if notice.state != "in_review":
            raise Conflict(f"这条通知不在待审核状态（{notice.state}）。The notice is {notice.state}, not in review.",
                           "not_in_review")
        if notice.publish_at is not None and notice.publish_at > tx.now:
            await tx.set_notice_review(notice_id, "scheduled", actor.user, None)
            await _record(tx, actor, "notice_approve", notice, "scheduled")
            return await held(tx, notice_id)
        published, villages = await publish_in(tx, down, blobs, notice, actor.user)
        await _record(tx, actor, "notice_approve", notice, f"published to {villages} village(s)")
        return published


async def reject(store: HubStore, actor: Actor, notice_id: str, raw: Any) -> Notice:
    reason = text_field(require_object(raw), "reason", MAX_REASON)
    async with store.transaction() as tx:
        notice = await held(tx, notice_id)
        await _as_reviewer(tx, actor, notice)
        if notice.state == "rejected" and notice.reviewed_by == actor.user and notice.reject_reason == reason:
            return notice
        if notice.state != "in_review":
            raise Conflict(f"这条通知不在待审核状态（{notice.state}）。The notice is {notice.state}, not in review.",
                           "not_in_review")
        await tx.set_notice_review(notice_id, "rejected", actor.user, reason)
        await _record(tx, actor, "notice_reject", notice, f"reason: {reason}")
        return await held(tx, notice_id)


async def publish_now(store: HubStore, down: DownFeed, blobs: BlobStore, actor: Actor, notice_id: str) -> Notice:
    """The admin token publishes any notice at once; an official only an emergency one, as a reviewer in scope."""
    async with store.transaction() as tx:
        notice = await held(tx, notice_id)
        if actor.is_official:
            require_role(actor, "reviewer")
            await require_scope(tx, actor, notice.targets)
            if notice.priority != "emergency":
                raise Forbidden("只有紧急通知可以不经审核直接发布，请提交审核。Only an emergency notice may be published"
                                " without review; submit it instead.", "forbidden")
        if notice.state == "published":
            return notice
        published, villages = await publish_in(tx, down, blobs, notice, _named_user(actor))
        kind = "emergency, " if notice.priority == "emergency" else ""
        await _record(tx, actor, "notice_publish", notice, f"{kind}published at once to {villages} village(s)")
        return published


async def withdraw(store: HubStore, down: DownFeed, actor: Actor, notice_id: str) -> Notice:
    """Take a notice back (off the TVs if it was out): the admin token, a reviewer or admin in scope, or the author
    of one that never went out."""
    async with store.transaction() as tx:
        notice = await held(tx, notice_id)
        if actor.is_official and not (notice.author == actor.user and notice.state != "published"):
            require_role(actor, "reviewer", "admin")
            await require_scope(tx, actor, notice.targets)
        if notice.state == "withdrawn":
            return notice
        withdrawn = await withdraw_in(tx, down, notice)
        await _record(tx, actor, "notice_withdraw", notice, f"was {notice.state}")
        return withdrawn


async def require_readable(store: HubStore, actor: Actor, notice: Notice) -> None:
    """An official reads its own notices and those with a target in its scope."""
    if not actor.is_official or notice.author == actor.user:
        return
    for target in notice.targets:
        if await covers(store, actor.scope, target):
            return
    await require_scope(store, actor, notice.targets)


async def publish_due(store: HubStore, down: DownFeed, blobs: BlobStore) -> int:
    """Publish approved notices whose publish_at has come; safe to run any number of times. Returns how many."""
    done = 0
    for notice_id in await store.due_scheduled_notices(now()):
        async with store.transaction() as tx:
            notice = await held(tx, notice_id)
            if notice.state != "scheduled":
                continue
            if notice.expires_at is not None and notice.expires_at <= tx.now:
                await withdraw_in(tx, down, notice)
                await _record(tx, SCHEDULER, "notice_withdraw", notice, "expired before its publication")
                continue
            try:
                _, villages = await publish_in(tx, down, blobs, notice, None)
            except Unprocessable as exc:  # an attachment is gone: leave it scheduled and say so
                log.error("scheduled notice %s not published: %s", notice_id, exc.detail)
                continue
            await _record(tx, SCHEDULER, "notice_publish", notice, f"scheduled, published to {villages} village(s)")
            done += 1
    return done

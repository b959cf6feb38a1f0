"""Notices: created as drafts, published into the down feed of every village in scope, withdrawn with a delete.

The op body is exactly the sync protocol's: {title, body, area, priority, scope, published_at, expires_at}, with
the attachments as the op's blob refs (sizes from the hub's own blob store, never from the request).
"""

from __future__ import annotations

import uuid
from typing import Any

from protocol import codec
from protocol.records import (
    AREAS,
    MAX_BLOBS_PER_RECORD,
    MAX_RECORD_BODY,
    PRIORITIES,
    delete,
    is_sha256_hex,
    put,
)

from .blobs import BlobStore
from .down_feed import DownFeed
from .errors import BadInput, Conflict, NotFound, Unprocessable
from .models import Notice, Village
from .store import HubStore
from .store_tx import Tx
from .validate import (
    choice_field,
    is_mime,
    now,
    parse_rfc3339,
    require_object,
    require_town_id,
    require_village_id,
    rfc3339,
    text_field,
)

MAX_TITLE = 200
# 10,000 characters fit the 64 KiB request cap even when a client escapes every one as \uXXXX (6 bytes), and
# the op body stays under the 64 KiB record limit.
MAX_BODY = 10_000
STATES = ("draft", "published", "withdrawn")


def parse_scope(value: object) -> str:
    """`city`, `town:ID` or `village:ID`."""
    if not isinstance(value, str):
        raise BadInput("the field 'scope' must be a string: city, town:ID or village:ID", "wrong_type")
    kind, sep, ident = value.partition(":")
    if value == "city":
        return value
    if sep and kind == "town":
        require_town_id(ident, "the town in scope")
        return value
    if sep and kind == "village":
        require_village_id(ident, "the village in scope")
        return value
    raise BadInput(f"scope {value!r} is unknown; use city, town:ID or village:ID", "unknown_scope")


def scope_covers(scope: str, village: Village) -> bool:
    kind, _, ident = scope.partition(":")
    return kind == "city" or (kind == "town" and ident == village.town_id) or (kind == "village" and ident == village.id)


def notice_op(notice: Notice) -> dict[str, Any]:
    body = {
        "title": notice.title,
        "body": notice.body,
        "area": notice.area,
        "priority": notice.priority,
        "scope": notice.scope,
        "published_at": rfc3339(notice.published_at),
        "expires_at": rfc3339(notice.expires_at),
    }
    return put("notice", notice.id, body, [dict(a) for a in notice.attachments])


async def _attachments(raw: object, blobs: BlobStore) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInput("the field 'attachments' must be a list of {sha256, mime}", "wrong_type")
    if len(raw) > MAX_BLOBS_PER_RECORD:
        raise BadInput(f"a notice may carry at most {MAX_BLOBS_PER_RECORD} attachments", "too_many")
    out: list[dict[str, Any]] = []
    for item in raw:
        ref = require_object(item, "each attachment")
        sha = ref.get("sha256")
        if not is_sha256_hex(sha):
            raise BadInput("an attachment's sha256 must be 64 lowercase hex digits", "bad_sha256")
        assert isinstance(sha, str)
        meta = await blobs.meta(sha)
        if meta is None:
            raise Unprocessable(f"no blob {sha} is stored at the hub; upload it with POST /api/v1/blobs first",
                                "unknown_blob")
        size, stored_mime = meta
        if "size" in ref and ref["size"] != size:
            raise Unprocessable(f"blob {sha} has {size} bytes, not {ref['size']}", "wrong_size")
        mime = ref.get("mime", stored_mime)
        if not is_mime(mime):
            raise BadInput("an attachment's mime must look like image/png", "bad_mime")
        out.append({"sha256": sha, "size": size, "mime": mime})
    return out


async def create_notice(store: HubStore, blobs: BlobStore, raw: Any) -> Notice:
    """Validate a draft from the API body and store it; nothing goes down before publish."""
    body = require_object(raw)
    title = text_field(body, "title", MAX_TITLE)
    text = text_field(body, "body", MAX_BODY)
    area = choice_field(body, "area", AREAS)
    priority = choice_field(body, "priority", PRIORITIES, default="normal")
    if "scope" not in body:
        raise BadInput("the field 'scope' is missing", "missing_field")
    scope = parse_scope(body["scope"])
    expires_at = None
    if body.get("expires_at") is not None:
        expires_at = parse_rfc3339(body["expires_at"], "expires_at")
        if expires_at <= now():
            raise Unprocessable("expires_at is in the past", "already_expired")
    attachments = await _attachments(body.get("attachments"), blobs)
    assert title is not None and text is not None
    notice = Notice(
        id=str(uuid.uuid4()),
        title=title,
        body=text,
        area=area,
        priority=priority,
        scope=scope,
        state="draft",
        created_at=now(),
        published_at=None,
        expires_at=expires_at,
        withdrawn_at=None,
        attachments=attachments,
    )
    if len(codec.encode(notice_op(notice)["body"])) > MAX_RECORD_BODY:
        raise BadInput(f"the notice is larger than {MAX_RECORD_BODY} bytes", "too_large")
    async with store.transaction() as tx:
        if not await tx.scope_target_exists(scope):
            raise Unprocessable(f"scope {scope} names no registered town or village", "unknown_scope")
        await tx.insert_notice(notice)
    return notice


async def _held(tx: Tx, notice_id: str) -> Notice:
    notice = await tx.get_notice(notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}", "unknown_notice")
    return notice


async def publish_notice(store: HubStore, down: DownFeed, blobs: BlobStore, notice_id: str) -> Notice:
    """Publish at once into every village in scope, in one transaction; publishing twice changes nothing."""
    async with store.transaction() as tx:
        notice = await _held(tx, notice_id)
        if notice.state == "published":
            return notice
        if notice.state == "withdrawn":
            raise Conflict(f"notice {notice_id} was withdrawn; create a new one", "withdrawn")
        if notice.expires_at is not None and notice.expires_at <= tx.now:
            raise Conflict(f"notice {notice_id} expired before it was published", "already_expired")
        for ref in notice.attachments:
            if not blobs.has(ref["sha256"]):
                raise Unprocessable(f"attachment {ref['sha256']} is no longer stored at the hub", "unknown_blob")
        await tx.set_notice_state(notice_id, "published")
        published = await _held(tx, notice_id)
        op = notice_op(published)
        villages = await tx.villages_in_scope(published.scope)
        await down.append(tx, {v: [op] for v in villages})
    return published


async def withdraw_notice(store: HubStore, down: DownFeed, notice_id: str) -> Notice:
    """Withdraw: a published notice gets a delete in every village in scope; a draft just never goes out."""
    async with store.transaction() as tx:
        notice = await _held(tx, notice_id)
        if notice.state == "withdrawn":
            return notice
        await tx.set_notice_state(notice_id, "withdrawn")
        if notice.state == "published":
            villages = await tx.villages_in_scope(notice.scope)
            op = delete("notice", notice_id)
            await down.append(tx, {v: [op] for v in villages})
        withdrawn = await _held(tx, notice_id)
    return withdrawn


async def backfill_village(tx: Tx, down: DownFeed, village: Village) -> int:
    """Give a village that joined late every live notice whose scope covers it; returns how many."""
    ops = [notice_op(n) for n in await tx.live_notices() if scope_covers(n.scope, village)]
    if ops:
        await down.append(tx, {village.id: ops})
    return len(ops)

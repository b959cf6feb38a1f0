"""Notices: created as drafts, published into the down feed of every village in scope, withdrawn with a delete.

The op body is exactly the sync protocol's: {title, body, area, priority, scope, published_at, expires_at}, with
the attachments as the op's blob refs (sizes from the hub's own blob store, never from the request). A notice may
target several places: its scope is then a comma list (`village:a,village:b`). Review before publishing (drafts by
officials, submit, approve or reject) is hub/notice_review.py; this module is what both it and the admin token use.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
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
from .store_tx import Tx
from .validate import (
    choice_field,
    is_mime,
    now,
    parse_rfc3339,
    require_object,
    require_town_id,
    require_uuid,
    require_village_id,
    rfc3339,
    text_field,
)

MAX_TITLE = 200
# 10,000 characters fit the 64 KiB request cap even when a client escapes every one as \uXXXX (6 bytes), and
# the op body stays under the 64 KiB record limit.
MAX_BODY = 10_000
STATES = ("draft", "in_review", "rejected", "scheduled", "published", "withdrawn")
MAX_TARGETS = 200


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


def parse_targets(value: object) -> str:
    """One scope, or several as a comma list (`village:a,village:b`): checked, deduplicated, in a stable order."""
    if not isinstance(value, str):
        raise BadInput("the field 'scope' must be a string: city, town:ID or village:ID (comma-separated for"
                       " several)", "wrong_type")
    parts = list(dict.fromkeys(p.strip() for p in value.split(",")))
    if len(parts) > MAX_TARGETS:
        raise BadInput(f"a notice may target at most {MAX_TARGETS} places", "too_many")
    targets = [parse_scope(p) for p in parts]
    return "city" if "city" in targets else ",".join(sorted(targets))


def scope_covers(scope: str, village: Village) -> bool:
    """Does a notice's or stream's scope (one target or a comma list) reach the village?"""
    for part in scope.split(","):
        kind, _, ident = part.partition(":")
        if kind == "city" or (kind == "town" and ident == village.town_id) or (kind == "village" and ident == village.id):
            return True
    return False


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


def _time_field(body: dict[str, Any], name: str) -> float | None:
    if body.get(name) is None:
        return None
    value = parse_rfc3339(body[name], name)
    if value <= now():
        raise Unprocessable(f"{name} is in the past", "already_expired" if name == "expires_at" else "in_the_past")
    return value


async def parse_notice(raw: Any, blobs: BlobStore, base: Notice | None = None) -> Notice:
    """A new notice from an API body (a draft; `id` may be the client's UUID, so a replay is recognised); or, with
    `base`, the edited notice: the fields the body names replace base's own."""
    body = require_object(raw)
    if base is None and "scope" not in body:
        raise BadInput("the field 'scope' is missing", "missing_field")
    changes: dict[str, Any] = {}
    if base is None or "title" in body:
        changes["title"] = text_field(body, "title", MAX_TITLE)
    if base is None or "body" in body:
        changes["body"] = text_field(body, "body", MAX_BODY)
    if base is None or "area" in body:
        changes["area"] = choice_field(body, "area", AREAS)
    if base is None or "priority" in body:
        changes["priority"] = choice_field(body, "priority", PRIORITIES, default="normal")
    if "scope" in body:
        changes["scope"] = parse_targets(body["scope"])
    for name in ("expires_at", "publish_at"):
        if base is None or name in body:
            changes[name] = _time_field(body, name)
    if base is None or "attachments" in body:
        changes["attachments"] = await _attachments(body.get("attachments"), blobs)
    if base is None:
        client_id = body.get("id")
        notice = Notice(id=str(uuid.uuid4()) if client_id is None else require_uuid(client_id, "id"),
                        state="draft", created_at=now(), published_at=None, withdrawn_at=None, **changes)
    else:
        notice = replace(base, **changes)
    if notice.publish_at is not None and notice.expires_at is not None and notice.publish_at >= notice.expires_at:
        raise Unprocessable("publish_at must come before expires_at", "bad_schedule")
    if len(codec.encode(notice_op(notice)["body"])) > MAX_RECORD_BODY:
        raise BadInput(f"the notice is larger than {MAX_RECORD_BODY} bytes", "too_large")
    return notice


def same_content(a: Notice, b: Notice) -> bool:
    """Would `b`, replayed under `a`'s id, create nothing new?"""
    fields = ("title", "body", "area", "priority", "scope", "expires_at", "publish_at", "attachments", "author")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


async def held(tx: Tx, notice_id: str) -> Notice:
    notice = await tx.get_notice(notice_id)
    if notice is None:
        raise NotFound(f"没有这条通知。No notice {notice_id}.", "unknown_notice")
    return notice


async def publish_in(tx: Tx, down: DownFeed, blobs: BlobStore, notice: Notice, by: str | None) -> tuple[Notice, int]:
    """Publish now, inside `tx`, into every village in scope; (the published notice, how many villages)."""
    if notice.state == "withdrawn":
        raise Conflict(f"notice {notice.id} was withdrawn; create a new one", "withdrawn")
    if notice.expires_at is not None and notice.expires_at <= tx.now:
        raise Conflict(f"notice {notice.id} expired before it was published", "already_expired")
    for ref in notice.attachments:
        if not blobs.has(ref["sha256"]):
            raise Unprocessable(f"attachment {ref['sha256']} is no longer stored at the hub", "unknown_blob")
    await tx.set_notice_state(notice.id, "published", by)
    published = await held(tx, notice.id)
    op = notice_op(published)
    villages = await tx.villages_in_scope(published.scope)
    await down.append(tx, {v: [op] for v in villages})
    return published, len(villages)


async def withdraw_in(tx: Tx, down: DownFeed, notice: Notice) -> Notice:
    """Withdraw inside `tx`: a published notice gets a delete in every village in scope (the TVs drop it); one that
    never went out just never will."""
    await tx.set_notice_state(notice.id, "withdrawn")
    if notice.state == "published":
        villages = await tx.villages_in_scope(notice.scope)
        op = delete("notice", notice.id)
        await down.append(tx, {v: [op] for v in villages})
    return await held(tx, notice.id)


async def backfill_village(tx: Tx, down: DownFeed, village: Village) -> int:
    """Give a village that joined late every live notice whose scope covers it; returns how many."""
    ops = [notice_op(n) for n in await tx.live_notices() if scope_covers(n.scope, village)]
    if ops:
        await down.append(tx, {village.id: ops})
    return len(ops)

"""Replies to residents' submissions: stored at the hub and sent down to the village the submission came from.

The reply travels as a hub-owned `reply` record, {submission_id, text, by, at}, in that village's down feed.
"""

from __future__ import annotations

from typing import Any

from .audit import ADMIN_TOKEN_USER
from .cases import answered_by_city
from .down_feed import DownFeed
from .errors import Conflict, NotFound
from .models import Reply, Submission
from .reply_records import put_reply
from .store import HubStore
from .store_tx import Tx
from .validate import require_object, require_uuid, text_field

MAX_TEXT = 2000
MAX_BY = 100
DEFAULT_BY = "市级平台"


async def add_reply(store: HubStore, down: DownFeed, submission_id: str, raw: Any,
                    village_id: str | None = None) -> Reply:
    """Reply to a submission; `village_id` says whose when several villages sent the same id (ids are unique per
    village only, so a reply can never reach a village that did not send the submission)."""
    require_uuid(submission_id, "the submission id")
    body = require_object(raw)
    text = text_field(body, "text", MAX_TEXT)
    by = text_field(body, "by", MAX_BY, required=False) or DEFAULT_BY
    assert text is not None
    if village_id is None:
        senders = await store.villages_with_submission(submission_id)
        if len(senders) > 1:
            raise Conflict(f"villages {', '.join(senders)} each sent a submission {submission_id}; say which with"
                           " ?village=ID", "ambiguous_submission")
        village_id = senders[0] if senders else None
    async with store.transaction() as tx:
        sub = await tx.get_submission(village_id, submission_id) if village_id is not None else None
        if sub is None:
            raise NotFound(f"the hub holds no submission {submission_id}"
                           + (f" from village {village_id}" if village_id else ""), "unknown_submission")
        reply = await send_reply(tx, down, sub, text, by)
        await answered_by_city(tx, down, sub, ADMIN_TOKEN_USER, text)
        return reply


async def send_reply(tx: Tx, down: DownFeed, sub: Submission, text: str, by: str) -> Reply:
    """Store a reply and put it into the village's down feed inside `tx` (a case's reply goes the same way)."""
    return await put_reply(tx, down, sub.village_id, sub.id, text, by)

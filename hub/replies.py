"""Replies to residents' submissions: stored at the hub and sent down to the village the submission came from.

The reply travels as a hub-owned `reply` record, {submission_id, text, by, at}, in that village's down feed.
"""

from __future__ import annotations

import uuid
from typing import Any

from protocol.records import put

from .audit import ADMIN_TOKEN_USER
from .cases import answered_by_city
from .down_feed import DownFeed
from .errors import NotFound
from .models import Reply, Submission
from .store import HubStore
from .store_tx import Tx
from .validate import require_object, require_uuid, rfc3339, text_field

MAX_TEXT = 2000
MAX_BY = 100
DEFAULT_BY = "市级平台"


async def add_reply(store: HubStore, down: DownFeed, submission_id: str, raw: Any) -> Reply:
    require_uuid(submission_id, "the submission id")
    body = require_object(raw)
    text = text_field(body, "text", MAX_TEXT)
    by = text_field(body, "by", MAX_BY, required=False) or DEFAULT_BY
    assert text is not None
    async with store.transaction() as tx:
        sub = await tx.get_submission(submission_id)
        if sub is None:
            raise NotFound(f"the hub holds no submission {submission_id}", "unknown_submission")
        reply = await send_reply(tx, down, sub, text, by)
        await answered_by_city(tx, down, submission_id, ADMIN_TOKEN_USER, text)
        return reply


async def send_reply(tx: Tx, down: DownFeed, sub: Submission, text: str, by: str) -> Reply:
    """Store a reply and put it into the village's down feed inside `tx` (a case's reply goes the same way)."""
    reply_id = str(uuid.uuid4())
    op = put("reply", reply_id, {"submission_id": sub.id, "text": text, "by": by, "at": rfc3339(tx.now)})
    heads = await down.append(tx, {sub.village_id: [op]})
    await tx.insert_reply(reply_id, sub.id, sub.village_id, text, by, heads[sub.village_id].seq)
    return Reply(reply_id, sub.id, sub.village_id, text, by, tx.now, heads[sub.village_id].seq)

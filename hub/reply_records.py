"""A `reply` record into a village's down feed: how a text reaches a resident's TV as an answer to a submission.

One writer for every reply: the admin token's reply (hub/replies.py), a handler's reply to a case, and the same
reply to the residents of the case's duplicates (hub/case_resident.py). It imports nothing of cases, so both can
use it.
"""

from __future__ import annotations

import uuid

from protocol.records import put

from .down_feed import DownFeed
from .models import Reply
from .store_tx import Tx
from .validate import rfc3339


async def put_reply(tx: Tx, down: DownFeed, village_id: str, submission_id: str, text: str, by: str) -> Reply:
    """Store a reply and put it into the village's down feed inside `tx`."""
    reply_id = str(uuid.uuid4())
    op = put("reply", reply_id, {"submission_id": submission_id, "text": text, "by": by, "at": rfc3339(tx.now)})
    heads = await down.append(tx, {village_id: [op]})
    await tx.insert_reply(reply_id, submission_id, village_id, text, by, heads[village_id].seq)
    return Reply(reply_id, submission_id, village_id, text, by, tx.now, heads[village_id].seq)

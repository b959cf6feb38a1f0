"""Replies village staff wrote at their edge (`local_reply` records in the up feed), kept as replies at the hub.

They never go back down: the village already shows them. A malformed one, or one for a submission the hub does
not hold, stays only as an edge record; refusing the batch for it would stall the village's whole up feed.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from .store_tx import Tx

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_BY = 100
NOT_SENT_DOWN = 0  # replies.down_seq of a reply that came up from the village


async def keep_local_reply(tx: Tx, village_id: str, op: dict[str, Any]) -> bool:
    """Store a village's local reply as a reply of its submission; True if stored."""
    body = op["body"]
    sid, text, by = body.get("submission_id"), body.get("text"), body.get("by")
    if not (isinstance(sid, str) and isinstance(text, str) and 0 < len(text) <= MAX_TEXT):
        log.warning("village %s sent local reply %s without a usable submission id or text", village_id, op["id"])
        return False
    by = by[:MAX_BY] if isinstance(by, str) and by else "村委会"
    sub = await tx.get_submission(village_id, sid)
    if sub is None:
        log.warning("village %s replied locally to submission %s, which the hub does not hold for it", village_id, sid)
        return False
    try:
        await tx.insert_reply(op["id"], sid, village_id, text, by, NOT_SENT_DOWN)
    except sqlite3.IntegrityError:  # only this statement is undone; the batch goes on
        log.warning("village %s sent local reply %s again; the first is kept", village_id, op["id"])
        return False
    return True

"""What village staff answer at the edge: a local reply, or "handed to the town", each its own edge record.

Replies from the city are hub-owned; a reply written here is a `local_reply` record owned by the edge, also shown
with the city's replies so the resident sees it at once, and the hub receives it through the up feed.
"""

from __future__ import annotations

import uuid
from typing import Any

from edge.feeds.up_append import append_up_op
from edge.residents.outbox import now_rfc3339
from protocol.database import Database
from protocol.records import put

MAX_TEXT = 2000
MAX_NOTE = 500
REPLY_BY = "村委会"


def _text(value: str, limit: int, what_zh: str, what_en: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValueError(f"请先填写{what_zh}。Please write the {what_en} first.")
    if len(value) > limit:
        raise ValueError(f"{what_zh}不能超过 {limit} 个字，请缩短。The {what_en} is longer than {limit} characters.")
    return value


async def _require_submission(conn: Any, submission_id: str) -> None:
    async with conn.execute("SELECT 1 FROM submissions WHERE id = ?", (submission_id,)) as cur:
        if await cur.fetchone() is None:
            raise LookupError(f"这个村没有编号为 {submission_id} 的事项。No submission {submission_id} here.")


async def add_local_reply(db: Database, village_id: str, submission_id: str, text: str, staff: str) -> str:
    """Store a staff reply and append it to the up feed in one transaction; returns the reply id."""
    text = _text(text, MAX_TEXT, "回复内容", "reply")
    reply_id = str(uuid.uuid4())
    at = now_rfc3339()
    async with db.write() as conn:
        await _require_submission(conn, submission_id)
        body = {"submission_id": submission_id, "text": text, "by": REPLY_BY, "staff": staff, "at": at}
        seq = await append_up_op(conn, village_id, put("local_reply", reply_id, body))
        await conn.execute(
            "INSERT INTO local_replies (id, submission_id, text, by_name, at, up_seq) VALUES (?, ?, ?, ?, ?, ?)",
            (reply_id, submission_id, text, REPLY_BY, at, seq),
        )
        # Also among the replies every resident-facing reader shows (API, TV app), so none needs to know of
        # local replies; the hub never sends this id down, so the down feed cannot overwrite or delete it.
        await conn.execute(
            "INSERT INTO replies (id, submission_id, text, by_name, at) VALUES (?, ?, ?, ?, ?)",
            (reply_id, submission_id, text, REPLY_BY, at),
        )
    return reply_id


async def hand_to_town(db: Database, village_id: str, submission_id: str, staff: str, note: str = "") -> bool:
    """Mark a submission as handed to the town and tell the hub; False if it already was (nothing changes)."""
    note = _text(note, MAX_NOTE, "备注", "note", required=False)
    at = now_rfc3339()
    async with db.write() as conn:
        await _require_submission(conn, submission_id)
        async with conn.execute(
            "SELECT 1 FROM submission_handovers WHERE submission_id = ?", (submission_id,)
        ) as cur:
            if await cur.fetchone() is not None:
                return False
        body = {"submission_id": submission_id, "by": staff, "note": note, "at": at}
        seq = await append_up_op(conn, village_id, put("submission_handover", submission_id, body))
        await conn.execute(
            "INSERT INTO submission_handovers (submission_id, by_name, note, at, up_seq) VALUES (?, ?, ?, ?, ?)",
            (submission_id, staff, note, at, seq),
        )
    return True

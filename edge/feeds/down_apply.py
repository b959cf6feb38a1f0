"""Applying verified down-feed entries at the edge: notices, replies, streams, staff accounts, the blobs they name.

All entries of a batch and the new down position commit in one transaction: a crash keeps all of it or none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

from edge.feeds.positions import write_position
from edge.residents.case_states import apply_case_status
from edge.staff.accounts import apply_staff_account
from edge.streams.catalog import apply_stream_op
from edge.updates.offers import apply_release_op
from protocol.database import Database
from protocol.errors import ChainError
from protocol.feed import GENESIS, Entry

log = logging.getLogger(__name__)


async def _apply_notice(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    rid, body = op["id"], op["body"]
    if op["op"] == "delete":
        await conn.execute("DELETE FROM notices WHERE id = ?", (rid,))
        return
    blobs = [{"sha256": b["sha256"], "size": b["size"], "mime": b["mime"]} for b in op["blobs"]]
    await conn.execute(
        "INSERT OR REPLACE INTO notices (id, title, body, area, priority, scope, published_at, expires_at,"
        " attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (rid, str(body.get("title", "")), str(body.get("body", "")), str(body.get("area", "community")),
         str(body.get("priority", "normal")), str(body.get("scope", "")), str(body.get("published_at", "")),
         body.get("expires_at") if isinstance(body.get("expires_at"), str) else None,
         json.dumps(blobs)),
    )
    for b in blobs:
        await conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, mime) VALUES (?, ?, ?)", (b["sha256"], b["size"], b["mime"])
        )


async def _apply_reply(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    rid, body = op["id"], op["body"]
    if op["op"] == "delete":
        await conn.execute("DELETE FROM replies WHERE id = ?", (rid,))
        return
    await conn.execute(
        "INSERT OR REPLACE INTO replies (id, submission_id, text, by_name, at) VALUES (?, ?, ?, ?, ?)",
        (rid, str(body.get("submission_id", "")), str(body.get("text", "")), str(body.get("by", "")),
         str(body.get("at", ""))),
    )


_APPLIERS: dict[str, Callable[[aiosqlite.Connection, dict[str, Any]], Awaitable[Any]]] = {
    "notice": _apply_notice,
    "reply": _apply_reply,
    "stream": apply_stream_op,
    "staff_account": apply_staff_account,
    "case_status": apply_case_status,  # where a resident's request stands at the hub (docs/cases.md)
    "release": apply_release_op,  # an offer only: edge/updates/ checks its own signature before anything else
}


async def _apply_op(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    apply = _APPLIERS.get(op["kind"])
    if apply is None:
        # Kinds this version does not show yet (settings) still advance the feed.
        log.info("down entry of kind %s (%s) kept for a later version", op["kind"], op["id"])
        return
    await apply(conn, op)


async def apply_down(db: Database, entries: list[Entry]) -> int:
    """Apply entries that continue the down feed; returns the new down seq."""
    async with db.write() as conn:
        async with conn.execute("SELECT seq, hash FROM feed_positions WHERE name = 'down'") as cur:
            row = await cur.fetchone()
        seq, head = (row[0], row[1]) if row else (0, GENESIS)
        if entries and (entries[0].seq != seq + 1 or entries[0].prev != head):
            # Another writer moved the position since the batch was checked; refuse rather than fork.
            raise ChainError(f"down entry {entries[0].seq} no longer continues position {seq}")
        for e in entries:
            await _apply_op(conn, e.op)
            await conn.execute("INSERT OR REPLACE INTO down_hashes (seq, hash) VALUES (?, ?)", (e.seq, e.hash))
            seq, head = e.seq, e.hash
        await write_position(conn, "down", seq, head)
    return seq


async def apply_ahead(db: Database, entries: list[Entry]) -> int:
    """Show emergency notices sent ahead of their turn (a batch's urgent entries) without moving the down position.

    The same entry is applied again in its turn; both writes are the same put, so the notice reads the same.
    """
    async with db.write() as conn:
        async with conn.execute("SELECT seq FROM feed_positions WHERE name = 'down'") as cur:
            row = await cur.fetchone()
        have = row[0] if row else 0
        ahead = [e for e in entries if e.seq > have]
        for e in ahead:
            await _apply_op(conn, e.op)
    for e in ahead:
        log.warning("emergency notice %s (down entry %d) shown ahead of its turn", e.op["id"], e.seq)
    return len(ahead)

"""Appending any edge-owned record op to the village's up feed, inside the caller's write transaction.

The outbox does the same for submissions; staff replies, handovers and village notices come through here, so
the record row and its up entry commit together and the sync loop sends them like any other entry.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from protocol import codec, records
from protocol.feed import GENESIS, entry_hash, feed_name


async def append_up_op(conn: aiosqlite.Connection, village_id: str, op: dict[str, Any]) -> int:
    """Append `op` (checked against the owner rule) as the next up entry; returns its seq."""
    records.validate_op(op, "edge")
    async with conn.execute("SELECT seq, hash FROM up_entries ORDER BY seq DESC LIMIT 1") as cur:
        head = await cur.fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    raw_op = codec.encode(op)
    await conn.execute(
        "INSERT INTO up_entries (seq, prev, hash, op, size) VALUES (?, ?, ?, ?, ?)",
        (seq, prev, entry_hash(feed_name("up", village_id), seq, prev, op), raw_op, len(raw_op)),
    )
    return seq


async def up_head_in(conn: aiosqlite.Connection) -> int:
    """The newest up entry's seq, read inside the caller's write transaction (0 for an empty feed)."""
    async with conn.execute("SELECT COALESCE(MAX(seq), 0) FROM up_entries") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0

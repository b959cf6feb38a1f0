"""Where this edge stands in its two feeds: the down entries applied here, the up entries the hub holds."""

from __future__ import annotations

import aiosqlite

from protocol.database import Database
from protocol.feed import GENESIS


async def read_position(db: Database, name: str) -> tuple[int, bytes]:
    row = await db.fetchone("SELECT seq, hash FROM feed_positions WHERE name = ?", (name,))
    return (row["seq"], row["hash"]) if row else (0, GENESIS)


async def write_position(conn: aiosqlite.Connection, name: str, seq: int, hash_: bytes) -> None:
    """Inside a write transaction, so the position moves together with what it stands for."""
    await conn.execute(
        "INSERT INTO feed_positions (name, seq, hash) VALUES (?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        (name, seq, hash_),
    )

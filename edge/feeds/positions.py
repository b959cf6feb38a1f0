"""Where this edge stands in its two feeds: the down entries applied here, the up entries the hub holds."""

from __future__ import annotations

import aiosqlite

from protocol import codec
from protocol.database import Database
from protocol.feed import GENESIS, Entry


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


async def up_head(db: Database) -> int:
    return int(await db.fetchvalue("SELECT COALESCE(MAX(seq), 0) FROM up_entries", default=0))


async def up_hash(db: Database, seq: int) -> bytes | None:
    if seq == 0:
        return GENESIS
    value = await db.fetchvalue("SELECT hash FROM up_entries WHERE seq = ?", (seq,))
    return bytes(value) if value is not None else None


async def up_entries_after(db: Database, seq: int, max_bytes: int, max_entries: int = 10_000) -> list[Entry]:
    """The up entries after `seq`, at most `max_bytes` of ops (but at least one), in order."""
    rows = await db.fetchall(
        "SELECT seq, prev, hash, op, size FROM up_entries WHERE seq > ? ORDER BY seq LIMIT ?", (seq, max_entries)
    )
    entries: list[Entry] = []
    budget = max_bytes
    for r in rows:
        if entries and budget - r["size"] < 0:
            break
        budget -= r["size"] + 8
        entries.append(Entry(r["seq"], r["prev"], codec.decode(r["op"]), r["hash"]))
    return entries


async def mark_acked(db: Database, seq: int, hash_: bytes) -> bool:
    """Record that the hub holds the up feed up to `seq`, if `hash_` is our entry there; False if it is not."""
    ours = await up_hash(db, seq)
    if ours is None or ours != hash_:
        return False
    current, _ = await read_position(db, "up_acked")
    if seq != current:
        async with db.write() as conn:
            await write_position(conn, "up_acked", seq, hash_)
    return True

"""Where this edge stands in its two feeds: the down entries applied here, the up entries the hub holds."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

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


async def acked_up_to(db: Database) -> int:
    """The last up entry the hub has acknowledged holding (0 before the first acknowledgement).

    The one answer to "has the city got it": a submission, reply or record is delivered when its up entry's seq is
    at most this.
    """
    seq, _ = await read_position(db, "up_acked")
    return seq


async def down_applied(db: Database) -> int:
    """The last down entry applied here, in order (entries shown ahead of their turn do not move it)."""
    seq, _ = await read_position(db, "down")
    return seq


@dataclass(frozen=True)
class UpBacklog:
    head: int  # the newest up entry written here
    acked: int  # the newest the hub has acknowledged
    pending_bytes: int  # what the entries between them weigh

    @property
    def pending(self) -> int:
        return self.head - self.acked


async def up_backlog(db: Database) -> UpBacklog:
    acked = await acked_up_to(db)
    row = await db.fetchone(
        "SELECT COALESCE(MAX(seq), 0) AS head, COALESCE(SUM(CASE WHEN seq > ? THEN size END), 0) AS pending"
        " FROM up_entries", (acked,)
    )
    assert row is not None
    return UpBacklog(max(int(row["head"]), acked), acked, int(row["pending"]))


def unacked_in_file(path: Path) -> int:
    """Up entries the hub has not acknowledged, read straight from a database file that is not open (0 without one).

    For decisions taken before the edge opens its database (may this box move to another village?).
    """
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
        try:
            row = conn.execute(
                "SELECT COUNT(*) FROM up_entries WHERE seq >"
                " COALESCE((SELECT seq FROM feed_positions WHERE name = 'up_acked'), 0)"
            ).fetchone()
        except sqlite3.OperationalError:
            return 0  # no tables yet: nothing was ever queued
    return int(row[0])

"""A read sees every commit made before it, even while other tasks are reading (protocol/database.py).

Found through a flaky staff test: a session that a password change had ended still let a request in once. SQLite
keeps one snapshot per connection while any statement on it is open, and a read made as two calls (execute, then
fetch) could share another task's older snapshot. The same loop counted 131 stale reads in 500 before the fix.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from protocol.database import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS counter (k INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
ROUNDS = 500


async def test_a_read_after_a_commit_sees_it_while_three_other_tasks_keep_reading(tmp_path: Path) -> None:
    db = Database(tmp_path / "reads.db")
    await db.open(SCHEMA)
    async with db.write() as conn:
        await conn.execute("INSERT INTO counter VALUES (1, 0)")
    done = asyncio.Event()

    async def another_reader() -> int:
        reads = 0
        while not done.is_set() and reads < 100 * ROUNDS:  # bounded, whatever happens
            await db.fetchall("SELECT * FROM counter")
            reads += 1
        return reads

    readers = [asyncio.create_task(another_reader()) for _ in range(3)]
    stale = []
    try:
        for i in range(1, ROUNDS + 1):
            async with db.write() as conn:
                await conn.execute("UPDATE counter SET v = ?", (i,))
            seen = await db.fetchvalue("SELECT v FROM counter")
            if seen != i:
                stale.append((i, seen))
    finally:
        done.set()
        reads = await asyncio.gather(*readers)
        await db.close()
    assert min(reads) > 0  # the other readers really were reading alongside
    assert stale == []

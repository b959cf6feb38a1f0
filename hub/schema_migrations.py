"""Brings an older hub database up to the current schema, in one write transaction, right after hub/schema.py ran.

Each step looks at the table's shape rather than trusting a version number, so it is safe to run on every open and
by several processes (the hub and a CLI) at once: the second finds nothing left to do.
"""

from __future__ import annotations

import aiosqlite

from .schema import SCHEMA, SCHEMA_VERSION

# v1 notices knew only draft, published and withdrawn (a CHECK constraint), and had no review columns. SQLite
# cannot change a CHECK in place, so the table is rebuilt as its documented 12-step procedure does.
_V1_NOTICE_COLUMNS = (
    "n, id, title, body, area, priority, scope, state, created_at, published_at, expires_at, withdrawn_at,"
    " attachments"
)


async def _columns(conn: aiosqlite.Connection, table: str) -> set[str]:
    async with conn.execute(f"PRAGMA table_info({table})") as cur:
        return {row[1] for row in await cur.fetchall()}


async def _table_sql(conn: aiosqlite.Connection, table: str) -> str:
    async with conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else ""


async def _rebuild_notices(conn: aiosqlite.Connection) -> None:
    start = SCHEMA.index("CREATE TABLE IF NOT EXISTS notices")
    create = SCHEMA[start : SCHEMA.index(");", start) + 2]
    await conn.execute(create.replace("IF NOT EXISTS notices", "notices_v2"))
    await conn.execute(f"INSERT INTO notices_v2 ({_V1_NOTICE_COLUMNS}) SELECT {_V1_NOTICE_COLUMNS} FROM notices")
    await conn.execute("DROP TABLE notices")
    await conn.execute("ALTER TABLE notices_v2 RENAME TO notices")
    await conn.execute("CREATE INDEX IF NOT EXISTS notices_state ON notices(state, n)")


async def _fill_notice_targets(conn: aiosqlite.Connection) -> None:
    """Notices made before notice_targets existed get their rows (a comma list never occurred before v2)."""
    await conn.execute(
        "INSERT OR IGNORE INTO notice_targets (notice_id, scope) SELECT id, scope FROM notices"
        " WHERE id NOT IN (SELECT notice_id FROM notice_targets) AND instr(scope, ',') = 0"
    )


async def migrate(conn: aiosqlite.Connection) -> None:
    """Run inside an open write transaction."""
    if "in_review" not in await _table_sql(conn, "notices") or "author" not in await _columns(conn, "notices"):
        await _rebuild_notices(conn)
    await _fill_notice_targets(conn)
    await conn.execute("CREATE INDEX IF NOT EXISTS notices_author ON notices(author, n)")
    await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

"""Brings an older hub database up to the current schema, in one write transaction, right after hub/schema.py ran.

Each step looks at the table's shape rather than trusting a version number, so it is safe to run on every open and
by several processes (the hub and a CLI) at once: the second finds nothing left to do.
"""

from __future__ import annotations

import aiosqlite

from .schema import SCHEMA, SCHEMA_VERSION
from .store_stats_cases import REBUILD_CASE_TOTALS

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


async def _children(conn: aiosqlite.Connection, table: str) -> list[str]:
    """Tables whose foreign keys point at `table`."""
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        names = [str(row[0]) for row in await cur.fetchall()]
    found = []
    for name in names:
        async with conn.execute(f"PRAGMA foreign_key_list({name})") as cur:
            if any(row[2] == table for row in await cur.fetchall()):
                found.append(name)
    return found


async def _rebuild(conn: aiosqlite.Connection, table: str) -> None:
    """Rebuild `table` as hub/schema.py now declares it, keeping its rows, indexes, triggers and row numbers.

    Foreign keys are on and cannot be switched off inside a transaction, so the rows of tables that point at this
    one are set aside while it is replaced and put back after: no moment leaves a row without its parent.
    """
    start = SCHEMA.index(f"CREATE TABLE IF NOT EXISTS {table} (")
    create = SCHEMA[start : SCHEMA.index(");", start) + 2]
    async with conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,),
    ) as cur:
        extras = [str(row[0]) for row in await cur.fetchall()]
    async with conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)) as cur:
        sequence = await cur.fetchone()
    children = await _children(conn, table)
    for child in children:
        await conn.execute(f"CREATE TEMP TABLE kept_{child} AS SELECT * FROM main.{child}")
        await conn.execute(f"DELETE FROM main.{child}")
    await conn.execute(create.replace(f"IF NOT EXISTS {table} (", f"{table}_rebuilt ("))
    columns = ", ".join(sorted(await _columns(conn, table) & await _columns(conn, f"{table}_rebuilt")))
    await conn.execute(f"INSERT INTO {table}_rebuilt ({columns}) SELECT {columns} FROM {table}")
    await conn.execute(f"DROP TABLE {table}")
    await conn.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for sql in extras:
        await conn.execute(sql)
    if sequence is not None:
        await conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (sequence[0], table))
    for child in children:
        await conn.execute(f"INSERT INTO main.{child} SELECT * FROM temp.kept_{child}")
        await conn.execute(f"DROP TABLE temp.kept_{child}")


async def _key_submissions_by_village(conn: aiosqlite.Connection) -> None:
    """v2 held a submission id once across all villages (issue 14: a village could claim another's ids first);
    v3 keys submissions, their replies and their cases by (village, id)."""
    if "UNIQUE (village_id, id)" not in await _table_sql(conn, "submissions"):
        await _rebuild(conn, "replies")  # first: its foreign key on submissions(id) goes
        await conn.execute("DROP INDEX IF EXISTS replies_submission")
        await _rebuild(conn, "submissions")
    if "UNIQUE (village_id, submission_id)" not in await _table_sql(conn, "cases"):
        await _rebuild(conn, "cases")
    if "household_id" not in await _columns(conn, "submissions"):
        # Votes count once per household at the hub as at the edge (issue 14); older rows count per device.
        await conn.execute("ALTER TABLE submissions ADD COLUMN household_id TEXT")


async def _add_village_coordinates(conn: aiosqlite.Connection) -> None:
    """Latitude and longitude (WGS-84 degrees, NULL when unknown) for the dashboard's map of the villages."""
    have = await _columns(conn, "villages")
    for column in ("latitude", "longitude"):
        if column not in have:
            await conn.execute(f"ALTER TABLE villages ADD COLUMN {column} REAL")


async def _fill_case_totals(conn: aiosqlite.Connection) -> None:
    """The cases' per-day totals are kept by triggers from the moment they exist; the cases held before that are
    counted once, here, and a row in `rollups_built` says it was done."""
    await conn.execute("CREATE TABLE IF NOT EXISTS rollups_built (name TEXT PRIMARY KEY, at REAL NOT NULL)")
    async with conn.execute("SELECT 1 FROM rollups_built WHERE name = 'case_day_totals'") as cur:
        if await cur.fetchone():
            return
    for statement in REBUILD_CASE_TOTALS:
        await conn.execute(statement)
    await conn.execute("INSERT INTO rollups_built (name, at) VALUES ('case_day_totals', unixepoch())")


async def migrate(conn: aiosqlite.Connection) -> None:
    """Run inside an open write transaction."""
    if "in_review" not in await _table_sql(conn, "notices") or "author" not in await _columns(conn, "notices"):
        await _rebuild_notices(conn)
    await _key_submissions_by_village(conn)
    await _fill_notice_targets(conn)
    await conn.execute("CREATE INDEX IF NOT EXISTS notices_author ON notices(author, n)")
    await _add_village_coordinates(conn)
    await _fill_case_totals(conn)
    await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

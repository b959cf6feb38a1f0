"""SQLite through aiosqlite with one writer and separate readers (WAL, synchronous=FULL).

All writes of a process go through `Database.write()`, one transaction at a time on one connection, so a commit
that returns is on disk before anyone is told "done" (the durability rule). Reads use their own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def make_private(path: Path) -> None:
    """The database holds residents' phone numbers and, at the hub, the enrollment token hashes that key the
    receipts' proofs: the file (SQLite gives its -wal and -shm the same mode) and the data folder holding it
    are the owner's alone, whatever the umask, and a database made before this is narrowed too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, PRIVATE_FOLDER)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(path.name + suffix), PRIVATE_FILE)


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Commit hooks: table -> listeners told after a committed transaction inserted into it (see on_insert).
        self._insert_listeners: dict[str, list[Callable[[], None]]] = {}
        self._inserted: set[str] = set()  # tables inserted into by the transaction under way

    async def open(self, schema: str) -> None:
        await asyncio.to_thread(make_private, self.path)
        self._writer = await aiosqlite.connect(self.path, isolation_level=None)
        self._writer.row_factory = aiosqlite.Row
        for pragma in _PRAGMAS:
            await self._writer.execute(pragma)
        await self._writer.executescript(schema)
        # Triggers call this inside the writer's transaction; what it notes is acted on only after COMMIT.
        await self._writer.create_function("note_insert", 1, self._inserted.add, deterministic=False)
        self._reader = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        self._reader.row_factory = aiosqlite.Row
        await self._reader.execute("PRAGMA busy_timeout=10000")

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One IMMEDIATE transaction on the single writer; committed (and synced) when the block ends."""
        assert self._writer is not None, "database is not open"
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._inserted.clear()
                await self._writer.execute("ROLLBACK")
                raise
            try:
                await self._writer.execute("COMMIT")
            finally:
                inserted = set(self._inserted)
                self._inserted.clear()
            for table in inserted:
                for listener in self._insert_listeners.get(table, ()):
                    listener()

    async def on_insert(self, table: str, listener: Callable[[], None]) -> None:
        """Call `listener` after every committed transaction that inserted rows into `table`.

        A commit hook, so the code that inserts need not know who waits for it (the sync loop waits for new up-feed
        entries). Never called for a transaction that rolled back; called once per transaction, however many rows.
        """
        assert self._writer is not None, "database is not open"
        if table not in self._insert_listeners:
            if not table.isidentifier():
                raise ValueError(f"not a table name: {table!r}")
            # A TEMP trigger lives on the writer connection only and is never stored in the database file.
            await self._writer.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS note_insert_{table} AFTER INSERT ON main.{table}"
                f" BEGIN SELECT note_insert('{table}'); END"
            )
            self._insert_listeners[table] = []
        self._insert_listeners[table].append(listener)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """Every row, read in one call on the reader's thread, so each read sees every commit made before it.

        SQLite keeps one snapshot per connection while any statement on it is open. With `execute` and `fetchall`
        as two calls, another task's read could start between them and share the first one's snapshot, taken
        before a commit that had since returned: a session ended by a password change still let a request in.
        """
        assert self._reader is not None, "database is not open"
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchvalue(self, sql: str, params: Iterable[Any] = (), default: Any = None) -> Any:
        row = await self.fetchone(sql, params)
        return default if row is None else row[0]

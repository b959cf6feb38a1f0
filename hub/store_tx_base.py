"""What every part of the hub's write transaction builds on: the open connection, its time, after-commit hooks.

`Tx` (store_tx.py) is assembled from parts that each own the SQL of one idea (org and accounts, audit log), all
sharing this one connection, so an action and its audit entry commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import aiosqlite


class SqlTx:
    def __init__(self, conn: aiosqlite.Connection, now: float) -> None:
        self._conn = conn
        self.now = now
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the transaction is committed (wake long polls only for what is on disk)."""
        self._after_commit.append(fn)

    def committed(self) -> None:
        for fn in self._after_commit:
            fn()

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def _exec(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._conn.execute(sql, tuple(params)) as cur:
            return cur.rowcount

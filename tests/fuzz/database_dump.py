"""What a refused request must leave alone: the rows of a running server's SQLite file, read from outside.

`PRAGMA data_version` changes exactly when another connection commits, so a refusal that wrote nothing costs one
pragma; only when something was committed are the tables read and compared.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

Rows = dict[str, list[tuple[object, ...]]]


class DatabaseWatch:
    """A read-only view of one database file and the last content seen in it."""

    def __init__(self, path: Path, ignored: Iterable[str] = ()) -> None:
        self.path = path
        self.ignored = frozenset(ignored)  # tables a refusal may write by design (attempt counters)
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        self._seen_version = -1
        self._seen: Rows = {}

    def close(self) -> None:
        self._conn.close()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _dump(self) -> Rows:
        names = [r[0] for r in self._conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: sorted(self._conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for name in names if name not in self.ignored}

    def remember(self) -> None:
        """Note the content now (read again only if something was committed since the last look)."""
        version = self._version()
        if version != self._seen_version:
            self._seen, self._seen_version = self._dump(), version

    def changed_tables(self, allowed: Iterable[str] = ()) -> list[str]:
        """Tables whose rows differ from what `remember` saw, but `allowed`; the view moves on to the content now."""
        version = self._version()
        if version == self._seen_version:
            return []
        now = self._dump()
        changed = sorted(name for name in set(now) | set(self._seen) if now.get(name) != self._seen.get(name))
        self._seen, self._seen_version = now, version
        return [name for name in changed if name not in set(allowed)]

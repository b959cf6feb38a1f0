"""The SQL of the audit log: appending inside the action's own transaction, and reading it back in order.

There is no method to change or remove an entry; the table's triggers refuse both (hub/schema.py).
"""

from __future__ import annotations

from typing import Any

from protocol.database import Database

from .org_models import AuditEntry
from .store_officials import within_scope_sql
from .store_tx_base import SqlTx


class AuditReads:
    _db: Database

    async def audit_entries(self, after: int, limit: int, within: str = "city") -> list[AuditEntry]:
        """Entries after seq `after`, oldest first, about places inside `within`."""
        condition, params = within_scope_sql("scope", within)
        rows = await self._db.fetchall(
            f"SELECT * FROM audit_log WHERE seq > ? AND {condition} ORDER BY seq LIMIT ?", [after, *params, limit]
        )
        return [AuditEntry.from_row(r) for r in rows]

    async def newest_audit_entries(self, limit: int, within: str = "city") -> list[AuditEntry]:
        """The latest `limit` entries about places inside `within`, newest first: read from the end by seq."""
        condition, params = within_scope_sql("scope", within)
        rows = await self._db.fetchall(
            f"SELECT * FROM audit_log WHERE {condition} ORDER BY seq DESC LIMIT ?", [*params, limit]
        )
        return [AuditEntry.from_row(r) for r in rows]


class AuditTx(SqlTx):
    async def audit_head(self) -> tuple[int, bytes] | None:
        row = await self._one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        return (row["seq"], row["hash"]) if row else None

    async def insert_audit(self, entry: AuditEntry) -> None:
        values: list[Any] = [entry.seq, entry.at, entry.username, entry.action, entry.target, entry.scope,
                             entry.detail, entry.prev, entry.hash]
        await self._exec(
            "INSERT INTO audit_log (seq, at, username, action, target, scope, detail, prev, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )

"""The SQL of the org tree (towns, units), officials' accounts and their login sessions: reads for `HubStore`,
writes for the write transaction `Tx`.

Kept apart from store.py and store_tx.py so each file holds one idea; a PostgreSQL store would mirror this file.
"""

from __future__ import annotations

from protocol.database import Database

from .org_models import Official, Session, Town, Unit
from .store_tx_base import SqlTx

_TOWN_OF_VILLAGE = "SELECT town_id FROM villages WHERE id = ?"
_UNIT_PARENT = "SELECT parent FROM units WHERE id = ?"
_SESSION_WITH_OFFICIAL = (
    "SELECT s.token_hash, s.kind, s.csrf, s.created_at, s.expires_at, o.* FROM sessions s"
    " JOIN officials o ON o.username = s.username WHERE s.token_hash = ?"
)


class OfficialsReads:
    _db: Database

    async def town_of_village(self, village_id: str) -> str | None:
        value = await self._db.fetchvalue(_TOWN_OF_VILLAGE, (village_id,))
        return str(value) if value is not None else None

    async def unit_parent(self, unit_id: str) -> str | None:
        value = await self._db.fetchvalue(_UNIT_PARENT, (unit_id,))
        return str(value) if value is not None else None

    async def list_towns(self) -> list[Town]:
        rows = await self._db.fetchall("SELECT id, name FROM towns ORDER BY id")
        return [Town(r["id"], r["name"]) for r in rows]

    async def list_units(self) -> list[Unit]:
        rows = await self._db.fetchall("SELECT id, name, parent FROM units ORDER BY id")
        return [Unit.from_row(r) for r in rows]

    async def place_names(self) -> dict[str, str]:
        """Every scope's name by its scope string (`town:T` → 城关镇, `village:V` → 小庄村, `city` → 全市)."""
        rows = await self._db.fetchall(
            "SELECT 'town:' || id AS scope, name FROM towns UNION ALL SELECT 'village:' || id, name FROM villages"
            " UNION ALL SELECT 'unit:' || id, name FROM units"
        )
        return {"city": "全市", **{r["scope"]: r["name"] for r in rows}}

    async def official_names(self) -> dict[str, str]:
        """Every account's shown name by user name."""
        rows = await self._db.fetchall("SELECT username, name FROM officials")
        return {r["username"]: r["name"] for r in rows}

    async def get_official(self, username: str) -> Official | None:
        row = await self._db.fetchone("SELECT * FROM officials WHERE username = ?", (username,))
        return Official.from_row(row) if row else None

    async def list_officials(self) -> list[Official]:
        rows = await self._db.fetchall("SELECT * FROM officials ORDER BY username")
        return [Official.from_row(r) for r in rows]

    async def session_with_official(self, token_hash: str) -> tuple[Session, Official] | None:
        row = await self._db.fetchone(_SESSION_WITH_OFFICIAL, (token_hash,))
        if row is None:
            return None
        session = Session(row["token_hash"], row["username"], row["kind"], row["csrf"], row["created_at"],
                          row["expires_at"])
        return session, Official.from_row(row)


class OfficialsTx(SqlTx):
    # org

    async def town_of_village(self, village_id: str) -> str | None:
        row = await self._one(_TOWN_OF_VILLAGE, (village_id,))
        return str(row[0]) if row else None

    async def unit_parent(self, unit_id: str) -> str | None:
        row = await self._one(_UNIT_PARENT, (unit_id,))
        return str(row[0]) if row else None

    async def get_town(self, town_id: str) -> Town | None:
        row = await self._one("SELECT id, name FROM towns WHERE id = ?", (town_id,))
        return Town(row["id"], row["name"]) if row else None

    async def put_town(self, town_id: str, name: str) -> bool:
        """Create or rename a town; True if it was created."""
        created = await self._exec(
            "INSERT OR IGNORE INTO towns (id, name, created_at) VALUES (?, ?, ?)", (town_id, name, self.now)
        )
        if not created:
            await self._exec("UPDATE towns SET name = ? WHERE id = ?", (name, town_id))
        return created > 0

    async def get_unit(self, unit_id: str) -> Unit | None:
        row = await self._one("SELECT id, name, parent FROM units WHERE id = ?", (unit_id,))
        return Unit.from_row(row) if row else None

    async def put_unit(self, unit_id: str, name: str, parent: str) -> bool:
        """Create a unit or change its name and parent; True if it was created."""
        created = await self._exec(
            "INSERT OR IGNORE INTO units (id, name, parent, created_at) VALUES (?, ?, ?, ?)",
            (unit_id, name, parent, self.now),
        )
        if not created:
            await self._exec("UPDATE units SET name = ?, parent = ? WHERE id = ?", (name, parent, unit_id))
        return created > 0

    # accounts

    async def get_official(self, username: str) -> Official | None:
        row = await self._one("SELECT * FROM officials WHERE username = ?", (username,))
        return Official.from_row(row) if row else None

    async def put_official(self, username: str, name: str, roles: tuple[str, ...], scope: str, pw_hash: str) -> bool:
        """Create an account, or reset one: password, roles, scope, name; a reset also lifts a lockout."""
        created = await self._exec(
            "INSERT OR IGNORE INTO officials (username, name, roles, scope, pw_hash, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, name, ",".join(roles), scope, pw_hash, self.now, self.now),
        )
        if not created:
            await self._exec(
                "UPDATE officials SET name = ?, roles = ?, scope = ?, pw_hash = ?, failed_logins = 0,"
                " locked_until = NULL, updated_at = ? WHERE username = ?",
                (name, ",".join(roles), scope, pw_hash, self.now, username),
            )
        return created > 0

    async def set_official_disabled(self, username: str, disabled: bool) -> None:
        await self._exec(
            "UPDATE officials SET disabled_at = ?, updated_at = ? WHERE username = ?",
            (self.now if disabled else None, self.now, username),
        )

    async def set_password_hash(self, username: str, pw_hash: str) -> None:
        await self._exec(
            "UPDATE officials SET pw_hash = ?, updated_at = ? WHERE username = ?", (pw_hash, self.now, username)
        )

    async def set_login_counters(self, username: str, failed_logins: int, locked_until: float | None) -> None:
        await self._exec(
            "UPDATE officials SET failed_logins = ?, locked_until = ? WHERE username = ?",
            (failed_logins, locked_until, username),
        )

    # sessions

    async def insert_session(self, session: Session) -> None:
        await self._exec(
            "INSERT INTO sessions (token_hash, username, kind, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (session.token_hash, session.username, session.kind, session.csrf, session.created_at,
             session.expires_at),
        )

    async def delete_session(self, token_hash: str) -> None:
        await self._exec("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    async def delete_sessions_of(self, username: str, keep: str | None = None) -> int:
        """End every session of the account (but `keep`, the caller's own); returns how many ended."""
        return await self._exec(
            "DELETE FROM sessions WHERE username = ? AND token_hash IS NOT ?", (username, keep)
        )

    async def delete_expired_sessions(self) -> None:
        await self._exec("DELETE FROM sessions WHERE expires_at <= ?", (self.now,))


def within_scope_sql(column: str, scope: str) -> tuple[str, list[str]]:
    """An SQL condition true when the place in `column` (a scope string) lies inside `scope` (see hub/scopes.py)."""
    if scope == "city":
        return "1 = 1", []
    kind, _, ident = scope.partition(":")
    if kind == "town":
        return (
            f"({column} = ? OR {column} IN (SELECT 'village:' || id FROM villages WHERE town_id = ?)"
            f" OR {column} IN (SELECT 'unit:' || id FROM units WHERE parent = ?))",
            [scope, ident, scope],
        )
    return f"{column} = ?", [scope]

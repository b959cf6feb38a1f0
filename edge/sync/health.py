"""How the sync with the hub is going: kept in memory for the status page, and on disk where it must outlive a restart.

This module is the only reader and writer of the `sync_health` table. What it keeps there, and why on disk:
- `hub_time`: the freshest signed hub time seen (the freeze defence must not forget it at a restart);
- `revoked_token`: the enrollment token of a bundle whose key the hub revoked (a new bundle brings a new key);
- `last_sync_at`: when a down pull last succeeded (the status document reports it);
- `down_tail`, `down_tail_bytes`: how far the hub's down feed reaches, for the status document's backlog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from protocol.database import Database

_UPSERT = "INSERT OR REPLACE INTO sync_health (name, value) VALUES (?, ?)"


@dataclass
class SyncHealth:
    """What the status document and the staff page say about the line, as the loops run."""

    phase: str = "idle"
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    by_loop: dict[str, str] = field(default_factory=dict)
    key_revoked: bool = False

    def ok(self, loop: str) -> None:
        self.last_success_at = time.time()
        self.by_loop[loop] = "ok"
        if all(v == "ok" for v in self.by_loop.values()):
            self.last_error = None

    def failed(self, loop: str, exc: BaseException) -> None:
        self.last_error = f"{loop}: {exc}" if str(exc) else f"{loop}: {type(exc).__name__}"
        self.last_error_at = time.time()
        self.by_loop[loop] = "error"


@dataclass(frozen=True)
class DownTail:
    seq: int
    bytes: int


async def _read(db: Database, name: str) -> str | None:
    value = await db.fetchvalue("SELECT value FROM sync_health WHERE name = ?", (name,))
    return str(value) if value is not None and value != "" else None


async def _write(db: Database, *pairs: tuple[str, str]) -> None:
    async with db.write() as conn:
        await conn.executemany(_UPSERT, pairs)


async def freshest_hub_time(db: Database) -> int:
    value = await _read(db, "hub_time")
    return int(value) if value else 0


async def record_hub_time(db: Database, signed_at: int) -> None:
    await _write(db, ("hub_time", str(signed_at)))


async def revoked_token(db: Database) -> str | None:
    """The enrollment token whose key the hub revoked; None when the key in use is not known to be revoked."""
    value = await db.fetchvalue("SELECT value FROM sync_health WHERE name = 'revoked_token'")
    return str(value) if value is not None else None


async def record_revoked(db: Database, token: str) -> None:
    await _write(db, ("revoked_token", token))


async def clear_revoked(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM sync_health WHERE name = 'revoked_token'")


async def last_sync_at(db: Database) -> int | None:
    value = await _read(db, "last_sync_at")
    return int(float(value)) if value else None


async def record_synced(db: Database) -> None:
    await _write(db, ("last_sync_at", str(time.time())))


async def down_tail(db: Database) -> DownTail:
    return DownTail(int(await _read(db, "down_tail") or 0), int(await _read(db, "down_tail_bytes") or 0))


async def record_down_tail(db: Database, tail: int, tail_bytes: int) -> None:
    await _write(db, ("down_tail", str(tail)), ("down_tail_bytes", str(tail_bytes)))

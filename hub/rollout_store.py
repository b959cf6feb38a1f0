"""The SQL of rollouts in waves: reads for `HubStore`, writes for the write transaction `Tx`.

A rollout row holds the release's down-feed record (sent to a village only when its wave starts); a row per
village says which wave it is in and when the record went into its feed. Kept apart so a PostgreSQL store would
mirror this one file.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from protocol import codec
from protocol.database import Database

from .rollout_models import Rollout, RolloutVillage
from .store_tx_base import SqlTx

ROLLOUT_SCHEMA = """
CREATE TABLE IF NOT EXISTS rollouts (
    id INTEGER PRIMARY KEY,
    release_id TEXT NOT NULL,          -- the release record's id: edge-V or stb.MODEL-V
    version TEXT NOT NULL,
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    waves TEXT NOT NULL,               -- JSON: [{"villages": [...]} | {"percent": N}]
    success_pct INTEGER NOT NULL,      -- share of a wave committed that starts the next one
    error_pct INTEGER,                 -- share of a wave failed that pauses the rollout (NULL: only max_failures)
    max_failures INTEGER NOT NULL,     -- failures in a wave tolerated before it pauses
    op BLOB NOT NULL,                  -- the release's down-feed op (msgpack), appended when a wave starts
    state TEXT NOT NULL CHECK (state IN ('awaiting_approval', 'running', 'paused', 'finished', 'aborted')),
    current_wave INTEGER NOT NULL DEFAULT 0,  -- 0 before the first wave, then 1, 2, ...
    forgiven INTEGER NOT NULL DEFAULT 0,      -- failures of the current wave accepted by a resume
    author TEXT NOT NULL,
    approver TEXT,
    reason TEXT,                       -- why it paused or was aborted
    created_at REAL NOT NULL,
    changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rollout_villages (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    village_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    sent_at REAL,                      -- when the release record went into the village's down feed
    PRIMARY KEY (rollout_id, village_id)
);
"""

_COLUMNS = ("id, release_id, version, target, scope, waves, success_pct, error_pct, max_failures, op, state,"
            " current_wave, forgiven, author, approver, reason, created_at, changed_at")


def _rollout(row: aiosqlite.Row) -> Rollout:
    return Rollout(
        id=row["id"], release_id=row["release_id"], version=row["version"], target=row["target"],
        scope=row["scope"], waves=json.loads(row["waves"]), success_pct=row["success_pct"],
        error_pct=row["error_pct"], max_failures=row["max_failures"], op=codec.decode(row["op"]),
        state=row["state"], current_wave=row["current_wave"], forgiven=row["forgiven"], author=row["author"],
        approver=row["approver"], reason=row["reason"], created_at=row["created_at"], changed_at=row["changed_at"])


def _villages(rows: list[aiosqlite.Row]) -> list[RolloutVillage]:
    return [RolloutVillage(r["village_id"], r["wave"], r["sent_at"]) for r in rows]


class RolloutsReads:
    _db: Database

    async def list_rollouts(self, limit: int = 200) -> list[Rollout]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM rollouts ORDER BY id DESC LIMIT ?", (limit,))
        return [_rollout(r) for r in rows]

    async def get_rollout(self, rollout_id: int) -> Rollout | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM rollouts WHERE id = ?", (rollout_id,))
        return _rollout(row) if row else None

    async def rollout_villages(self, rollout_id: int) -> list[RolloutVillage]:
        return _villages(await self._db.fetchall(
            "SELECT village_id, wave, sent_at FROM rollout_villages WHERE rollout_id = ? ORDER BY wave, village_id",
            (rollout_id,)))


class RolloutsTx(SqlTx):
    async def insert_rollout(self, r: Rollout) -> int:
        await self._exec(
            "INSERT INTO rollouts (release_id, version, target, scope, waves, success_pct, error_pct, max_failures,"
            " op, state, author, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.release_id, r.version, r.target, r.scope, json.dumps(r.waves), r.success_pct, r.error_pct,
             r.max_failures, codec.encode(r.op), r.state, r.author, self.now, self.now))
        row = await self._one("SELECT last_insert_rowid() AS id")
        assert row is not None
        return int(row["id"])

    async def rollout_for_update(self, rollout_id: int) -> Rollout | None:
        row = await self._one(f"SELECT {_COLUMNS} FROM rollouts WHERE id = ?", (rollout_id,))
        return _rollout(row) if row else None

    async def rollouts_in_states(self, *states: str) -> list[Rollout]:
        marks = ", ".join("?" for _ in states)
        rows = await self._all(f"SELECT {_COLUMNS} FROM rollouts WHERE state IN ({marks}) ORDER BY id", states)
        return [_rollout(r) for r in rows]

    async def set_rollout_state(self, rollout_id: int, state: str, reason: str | None = None, **fields: Any) -> None:
        """`fields` among current_wave, forgiven, approver."""
        assert set(fields) <= {"current_wave", "forgiven", "approver"}
        sets = "".join(f", {name} = ?" for name in fields)
        await self._exec(f"UPDATE rollouts SET state = ?, reason = ?, changed_at = ?{sets} WHERE id = ?",
                         (state, reason, self.now, *fields.values(), rollout_id))

    async def put_rollout_villages(self, rollout_id: int, by_wave: dict[str, int]) -> None:
        """Place villages in waves; a village already placed keeps its wave."""
        await self._conn.executemany(
            "INSERT OR IGNORE INTO rollout_villages (rollout_id, village_id, wave) VALUES (?, ?, ?)",
            [(rollout_id, v, wave) for v, wave in by_wave.items()])

    async def rollout_villages_tx(self, rollout_id: int) -> list[RolloutVillage]:
        return _villages(await self._all(
            "SELECT village_id, wave, sent_at FROM rollout_villages WHERE rollout_id = ? ORDER BY wave, village_id",
            (rollout_id,)))

    async def mark_rollout_sent(self, rollout_id: int, village_ids: list[str]) -> None:
        await self._conn.executemany(
            "UPDATE rollout_villages SET sent_at = ? WHERE rollout_id = ? AND village_id = ?",
            [(self.now, rollout_id, v) for v in village_ids])

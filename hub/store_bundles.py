"""The SQL of provisioning bundles' enrollment tokens: one row per bundle made, reads for `HubStore`, writes for `Tx`.

Kept apart from store.py and store_tx.py so each file holds one idea; a PostgreSQL store would mirror this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.database import Database

from .store_tx_base import SqlTx

BUNDLES_SCHEMA = """
-- One enrollment token per provisioning bundle (hub/enroll_bundles.py): a second bundle for a village leaves the
-- first one working, until one of them enrolls the village's box.
CREATE TABLE IF NOT EXISTS enroll_bundles (
    id TEXT PRIMARY KEY,           -- printed by `village-provision make`, named by `list` and `revoke`
    village_id TEXT NOT NULL REFERENCES villages(id),
    token_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the token; the token itself is only on the bundle
    made_at REAL NOT NULL,
    made_by TEXT,                  -- who ran the command, when known
    expires_at REAL NOT NULL,
    used_by BLOB,                  -- the key that enrolled with it (which makes enrollment idempotent)
    used_at REAL,
    revoked_at REAL,               -- by hand, or when the village's box enrolled with another bundle
    revoked_why TEXT               -- 'revoked' (by hand) or 'superseded' (another bundle enrolled the box)
);
CREATE INDEX IF NOT EXISTS enroll_bundles_village ON enroll_bundles(village_id, made_at);
-- A token issued before bundles had rows of their own (one per village, in villages) keeps working as one.
INSERT OR IGNORE INTO enroll_bundles (id, village_id, token_hash, made_at, expires_at, used_by, used_at)
    SELECT 'legacy-' || id, id, enroll_token_hash, created_at, COALESCE(token_expires_at, 1e12), token_used_by,
           CASE WHEN token_used_by IS NULL THEN NULL ELSE enrolled_at END
    FROM villages WHERE enroll_token_hash IS NOT NULL;
"""


@dataclass(frozen=True)
class EnrollBundle:
    id: str
    village_id: str
    token_hash: str
    made_at: float
    made_by: str | None
    expires_at: float
    used_by: bytes | None
    used_at: float | None
    revoked_at: float | None
    revoked_why: str | None

    @classmethod
    def from_row(cls, row: Any) -> EnrollBundle:
        return cls(**{k: row[k] for k in cls.__dataclass_fields__})

    def state(self, now: float) -> str:
        """`used`, `revoked`, `superseded`, `expired` or `valid`, in that order of precedence."""
        if self.used_by is not None:
            return "used"
        if self.revoked_at is not None:
            return self.revoked_why or "revoked"
        if self.expires_at < now:
            return "expired"
        return "valid"


class BundlesTx(SqlTx):
    async def insert_bundle(self, bundle_id: str, village_id: str, token_hash: str, made_by: str | None,
                            expires_at: float) -> None:
        await self._exec(
            "INSERT INTO enroll_bundles (id, village_id, token_hash, made_at, made_by, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (bundle_id, village_id, token_hash, self.now, made_by, expires_at),
        )

    async def bundle_by_token(self, village_id: str, token_hash: str) -> EnrollBundle | None:
        row = await self._one("SELECT * FROM enroll_bundles WHERE village_id = ? AND token_hash = ?",
                              (village_id, token_hash))
        return EnrollBundle.from_row(row) if row else None

    async def bundle_by_id(self, bundle_id: str) -> EnrollBundle | None:
        row = await self._one("SELECT * FROM enroll_bundles WHERE id = ?", (bundle_id,))
        return EnrollBundle.from_row(row) if row else None

    async def village_bundles(self, village_id: str) -> list[EnrollBundle]:
        rows = await self._all("SELECT * FROM enroll_bundles WHERE village_id = ? ORDER BY made_at", (village_id,))
        return [EnrollBundle.from_row(r) for r in rows]

    async def use_bundle(self, bundle_id: str, village_id: str, key: bytes) -> int:
        """Mark the bundle used by `key` and retire the village's other open bundles; how many were retired."""
        await self._exec("UPDATE enroll_bundles SET used_by = ?, used_at = ? WHERE id = ?", (key, self.now, bundle_id))
        return await self._exec(
            "UPDATE enroll_bundles SET revoked_at = ?, revoked_why = 'superseded'"
            " WHERE village_id = ? AND id != ? AND used_by IS NULL AND revoked_at IS NULL",
            (self.now, village_id, bundle_id),
        )

    async def revoke_bundle(self, bundle_id: str) -> None:
        await self._exec("UPDATE enroll_bundles SET revoked_at = ?, revoked_why = 'revoked' WHERE id = ?",
                         (self.now, bundle_id))


class BundlesReads:
    _db: Database

    async def list_bundles(self, village_id: str | None = None) -> list[EnrollBundle]:
        if village_id is None:
            rows = await self._db.fetchall("SELECT * FROM enroll_bundles ORDER BY village_id, made_at")
        else:
            rows = await self._db.fetchall(
                "SELECT * FROM enroll_bundles WHERE village_id = ? ORDER BY made_at", (village_id,))
        return [EnrollBundle.from_row(r) for r in rows]

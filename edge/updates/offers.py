"""Release offers at the box: `release` records from the down feed (or a technician's stick), until decided.

A record carries the release metadata as the release key signed it; the feed's own signature only proves it came
from the hub. Nothing here trusts the record's plain fields: the taker (edge/updates/taker.py) opens the signed
metadata against the trust document before anything is downloaded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite

from protocol.database import Database
from protocol.records import is_sha256_hex
from protocol.releases import MAX_RELEASE_BYTES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    id: str
    signed: bytes
    sha256: str
    size: int
    outcome: str | None
    reason: str | None
    trust_version: int | None


_COLUMNS = "id, signed, sha256, size, outcome, reason, trust_version"


def _offers(rows: list[aiosqlite.Row]) -> list[Offer]:
    return [Offer(r["id"], r["signed"], r["sha256"], r["size"], r["outcome"], r["reason"], r["trust_version"])
            for r in rows]


async def apply_release_op(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    """A `release` put or delete from the down feed, inside the batch's transaction."""
    if op["op"] == "delete":
        await conn.execute("DELETE FROM release_offers WHERE id = ? AND outcome IS NULL", (op["id"],))
        return
    signed = op["body"].get("signed")
    blobs = op["blobs"]
    if not isinstance(signed, bytes) or len(signed) > MAX_RELEASE_BYTES or len(blobs) != 1:
        # The feed stays whole (it is signed by the hub); a malformed offer is only never taken.
        log.error("release record %s is malformed; ignored", op["id"])
        return
    await insert_offer(conn, op["id"], signed, blobs[0]["sha256"], blobs[0]["size"])


async def insert_offer(conn: aiosqlite.Connection, offer_id: str, signed: bytes, sha256: str, size: int) -> None:
    if not is_sha256_hex(sha256):
        raise ValueError("an offer names its artifact by SHA-256")
    # The same record again (a replayed entry, the same stick twice) changes nothing already decided.
    await conn.execute(
        "INSERT INTO release_offers (id, signed, sha256, size, received_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET signed = excluded.signed, sha256 = excluded.sha256, size = excluded.size,"
        " outcome = NULL, reason = NULL WHERE release_offers.signed != excluded.signed",
        (offer_id, signed, sha256, size, time.time()),
    )


async def undecided(db: Database, trust_version: int, for_stbs: bool = False) -> list[Offer]:
    """Offers not decided yet, and those refused for an unknown key under an older trust document (a release key
    the box has not heard of yet may be listed in the next one). The box's own (`edge-…`) by default; with
    `for_stbs` the set-top boxes' (`stb.MODEL-…`), which edge/updates/stb_firmware.py caches for the LAN."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM release_offers"
        " WHERE (outcome IS NULL OR (outcome = 'unknown_key' AND trust_version < ?))"
        " AND (substr(id, 1, 4) = 'stb.') = ? ORDER BY received_at",
        (trust_version, for_stbs))
    return _offers(rows)


async def decide(db: Database, offer_id: str, outcome: str, reason: str | None, trust_version: int) -> None:
    """`taken` (the box's own), `cached` (a set-top box's, kept for the LAN), or the refusal's code (`expired`,
    `wrong_target`, `downgrade`, `unknown_key`, ...) with why."""
    async with db.write() as conn:
        await conn.execute("UPDATE release_offers SET outcome = ?, reason = ?, trust_version = ? WHERE id = ?",
                           (outcome, reason, trust_version, offer_id))


async def refusals(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    rows = await db.fetchall("SELECT id, outcome, reason FROM release_offers"
                             " WHERE outcome NOT IN ('taken', 'cached') ORDER BY received_at DESC LIMIT ?", (limit,))
    return [{"id": r["id"], "code": r["outcome"], "reason": r["reason"]} for r in rows]


async def cached_for_stbs(db: Database) -> list[Offer]:
    """Set-top-box releases whose artifact is in the content store, ready to offer on the LAN."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM release_offers"
        " WHERE outcome = 'cached' AND substr(id, 1, 4) = 'stb.' ORDER BY received_at")
    return _offers(rows)

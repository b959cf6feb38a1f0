"""The submissions outbox: a resident's action is answered only after it and its up-feed entry are committed.

One transaction writes the submission row and appends the entry to the up feed, so the two never disagree.
A client-chosen id makes it idempotent: the same id and body again is 200, the same id with another body is 409.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from protocol import codec, records
from protocol.database import Database
from protocol.feed import GENESIS, entry_hash, feed_name


@dataclass(frozen=True)
class Outcome:
    status: int  # 201 new, 200 identical replay, 409 same id with another body
    submission_id: str
    state: str


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(sub: dict[str, Any]) -> str:
    return hashlib.sha256(codec.encode([sub["kind"], sub["device_id"], sub["body"]])).hexdigest()


async def submit(db: Database, village_id: str, sub: dict[str, Any]) -> Outcome:
    """Queue a parsed submission durably (synchronous=FULL commit) and append it to the up feed."""
    digest = _digest(sub)
    async with db.write() as conn:
        async with conn.execute("SELECT digest FROM submissions WHERE id = ?", (sub["id"],)) as cur:
            row = await cur.fetchone()
        if row is not None:
            if row[0] != digest:
                return Outcome(409, sub["id"], "conflict")
            return Outcome(200, sub["id"], "")  # state is read after the transaction
        async with conn.execute("SELECT seq, hash FROM up_entries ORDER BY seq DESC LIMIT 1") as cur:
            head = await cur.fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        created_at = now_rfc3339()
        op = records.put(
            "submission",
            sub["id"],
            {"kind": sub["kind"], "device_id": sub["device_id"], "body": sub["body"], "created_at": created_at},
        )
        raw_op = codec.encode(op)
        await conn.execute(
            "INSERT INTO up_entries (seq, prev, hash, op, size) VALUES (?, ?, ?, ?, ?)",
            (seq, prev, entry_hash(feed_name("up", village_id), seq, prev, op), raw_op, len(raw_op)),
        )
        await conn.execute(
            "INSERT INTO submissions (id, kind, device_id, body, digest, created_at, up_seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sub["id"], sub["kind"], sub["device_id"], json.dumps(sub["body"], ensure_ascii=False), digest,
             created_at, seq),
        )
    return Outcome(201, sub["id"], "queued")


async def submission_view(db: Database, submission_id: str) -> dict[str, Any] | None:
    """What a resident sees of one submission: its state and the replies that came down."""
    row = await db.fetchone(
        "SELECT s.id, s.kind, s.body, s.created_at, s.up_seq, COALESCE(p.seq, 0) AS acked"
        " FROM submissions s LEFT JOIN feed_positions p ON p.name = 'up_acked' WHERE s.id = ?",
        (submission_id,),
    )
    if row is None:
        return None
    replies = await db.fetchall(
        "SELECT text, by_name, at FROM replies WHERE submission_id = ? ORDER BY at", (submission_id,)
    )
    state = "answered" if replies else ("delivered" if row["up_seq"] <= row["acked"] else "queued")
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": state,
        "created_at": row["created_at"],
        "body": json.loads(row["body"]),
        "replies": [{"text": r["text"], "by": r["by_name"], "at": r["at"]} for r in replies],
    }


async def queue_depth(db: Database) -> int:
    """Submissions the hub has not acknowledged yet."""
    return int(
        await db.fetchvalue(
            "SELECT COUNT(*) FROM submissions WHERE up_seq >"
            " COALESCE((SELECT seq FROM feed_positions WHERE name = 'up_acked'), 0)",
            default=0,
        )
    )

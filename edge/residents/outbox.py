"""The submissions outbox: a resident's action is answered only after it and its up-feed entry are committed.

One transaction writes the submission row and appends the entry to the up feed, so the two never disagree;
submissions arriving together share that transaction (group commit), each answered only after it commits.
A client-chosen id makes it idempotent: the same id and body again is 200, the same id with another body is 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from edge.feeds.positions import acked_up_to
from edge.feeds.up_append import append_up_op
from protocol import codec, records
from protocol.database import Database

from .case_states import case_states_of, shown_state
from .quotas import OverQuota, SubmissionQuota, over_quota


@dataclass(frozen=True)
class Outcome:
    status: int  # 201 new, 200 identical replay, 409 same id with another body, 403 a vote from an unpaired device,
    submission_id: str  # 429 over a quota (`over` says which)
    state: str
    over: OverQuota | None = None


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(sub: dict[str, Any]) -> str:
    return hashlib.sha256(codec.encode([sub["kind"], sub["device_id"], sub["body"]])).hexdigest()


async def _queue_one(conn: aiosqlite.Connection, village_id: str, sub: dict[str, Any],
                     quota: SubmissionQuota) -> Outcome:
    """Inside the group's transaction: the idempotency check, the quotas, the submission row and its up entry."""
    digest = _digest(sub)
    async with conn.execute("SELECT digest FROM submissions WHERE id = ?", (sub["id"],)) as cur:
        row = await cur.fetchone()
    if row is not None:
        if row[0] != digest:
            return Outcome(409, sub["id"], "conflict")
        return Outcome(200, sub["id"], "")  # state is read after the transaction
    over = await over_quota(conn, sub["device_id"], quota, datetime.now(UTC))
    if over is not None:
        return Outcome(429, sub["id"], "", over)
    created_at = now_rfc3339()
    up_body = {"kind": sub["kind"], "device_id": sub["device_id"], "body": sub["body"], "created_at": created_at}
    # An STB paired with a household on the staff page (edge/residents/households.py) speaks for that household.
    async with conn.execute("SELECT household_id FROM household_devices WHERE device_id = ?", (sub["device_id"],)) as cur:
        paired = await cur.fetchone()
    if paired is None and sub["kind"] == "vote":
        return Outcome(403, sub["id"], "not_paired")  # votes count once per household: nothing to count it for
    if paired is not None:
        up_body["household_id"] = paired[0]
        await conn.execute("INSERT OR IGNORE INTO submission_households (submission_id, household_id) VALUES (?, ?)",
                           (sub["id"], paired[0]))
    op = records.put("submission", sub["id"], up_body)
    seq = await append_up_op(conn, village_id, op)
    await conn.execute(
        "INSERT INTO submissions (id, kind, device_id, body, digest, created_at, up_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (sub["id"], sub["kind"], sub["device_id"], json.dumps(sub["body"], ensure_ascii=False), digest,
         created_at, seq),
    )
    return Outcome(201, sub["id"], "queued")


class Outbox:
    """Group commit: submissions that arrive while a commit is under way share the next transaction.

    Each caller is still answered only after the transaction holding its submission is committed with
    synchronous=FULL; there are just fewer fsyncs when many STBs submit at once. The commit runs in its own
    task, so a resident who hangs up mid-request cannot abandon a half-done write.
    """

    def __init__(self, db: Database, quota: SubmissionQuota | None = None) -> None:
        self.db = db
        self.quota = quota or SubmissionQuota()
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[Outcome]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def submit(self, village_id: str, sub: dict[str, Any]) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((village_id, sub, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending(), name="outbox-commit")
        return await asyncio.shield(future)

    async def _commit_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                async with self.db.write() as conn:
                    outcomes = [await _queue_one(conn, vid, sub, self.quota) for vid, sub, _ in group]
            except Exception as exc:  # noqa: BLE001 - every waiting resident must get an answer
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), outcome in zip(group, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)


async def submission_view(db: Database, submission_id: str) -> dict[str, Any] | None:
    """What a resident sees of one submission: its state and its replies (from the city, or the village's own)."""
    row = await db.fetchone(
        "SELECT id, kind, body, created_at, up_seq FROM submissions WHERE id = ?", (submission_id,)
    )
    if row is None:
        return None
    replies = await db.fetchall(
        "SELECT text, by_name, at FROM replies WHERE submission_id = ? ORDER BY at", (submission_id,)
    )
    case = (await case_states_of(db, [submission_id])).get(submission_id)
    state = shown_state(case, bool(replies), row["up_seq"] <= await acked_up_to(db))
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": state,
        "created_at": row["created_at"],
        "body": json.loads(row["body"]),
        "replies": [{"text": r["text"], "by": r["by_name"], "at": r["at"]} for r in replies],
        "case": case,  # where the city's case stands (case_states.py), or None
        "due_at": case["due_at"] if case else None,
    }


async def queue_depth(db: Database) -> int:
    """Submissions the hub has not acknowledged yet."""
    return int(
        await db.fetchvalue(
            "SELECT COUNT(*) FROM submissions WHERE up_seq > ?", (await acked_up_to(db),), default=0,
        )
    )


# A vote is a resident's submission like any other; the meeting's tally reads them here, each under the household
# its device was paired with when it voted (the outbox refuses votes from unpaired devices).
_VOTES_CAST = ("SELECT s.up_seq, h.household_id, json_extract(s.body, '$.choice') FROM submissions s"
               " JOIN submission_households h ON h.submission_id = s.id"
               " WHERE s.kind = 'vote' AND json_extract(s.body, '$.question_id') = ?")


async def votes_cast(db: Database, question_id: str) -> list[tuple[int, str, Any]]:
    """(up seq, household, choice) of every vote cast on a question, in no particular order."""
    return [(r[0], r[1], r[2]) for r in await db.fetchall(_VOTES_CAST, (question_id,))]


async def votes_cast_in(conn: aiosqlite.Connection, question_id: str) -> list[tuple[int, str, Any]]:
    """The same, inside the caller's write transaction (closing a vote reads its votes and cutoff together)."""
    async with conn.execute(_VOTES_CAST, (question_id,)) as cur:
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

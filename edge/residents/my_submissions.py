"""A device's own submissions ("my submissions"), with their state, replies and the resident's rating of them.

The state is the box's own (queued, delivered, answered) until the hub tells the case's (`case_states.py`):
then in_progress, answered or closed as the city has it, with `case` {state, due_at, due_date, unit_name, at}.

Ids for the daily check-in and for a rating are derived from the device's secret (and day, or rated submission;
`edge/residents/devices.py`), so pressing OK twice sends one record, which the outbox answers as an identical
replay, and nobody else can compute the id to take it first.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from edge.errors import Refused
from edge.feeds.positions import acked_up_to
from protocol.database import Database

from .case_states import case_states_of, shown_state
from .devices import Device

MAX_PAGE = 1000


class BadCursor(Refused):
    def __init__(self) -> None:
        super().__init__(400, "bad_cursor", "the cursor is not one this box handed out")


async def _ratings(db: Database, device_id: str) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT body FROM submissions WHERE device_id = ? AND kind = 'rating' ORDER BY created_at", (device_id,)
    )
    out: dict[str, int] = {}
    for r in rows:
        body = json.loads(r["body"])
        out[str(body.get("submission_id"))] = int(body.get("score", 0))
    return out


_SELECT = "SELECT s.id, s.kind, s.body, s.created_at, s.up_seq FROM submissions s WHERE s.device_id = ?"


async def _views(db: Database, device_id: str, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    replies: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in await db.fetchall(
            f"SELECT submission_id, text, by_name, at FROM replies WHERE submission_id IN ({marks}) ORDER BY at", chunk
        ):
            replies[r["submission_id"]].append({"text": r["text"], "by": r["by_name"], "at": r["at"]})
    ratings = await _ratings(db, device_id)
    acked = await acked_up_to(db)
    cases = await case_states_of(db, ids)
    out = []
    for r in rows:
        case = cases.get(r["id"])
        state = shown_state(case, bool(replies[r["id"]]), r["up_seq"] <= acked)
        out.append({"id": r["id"], "kind": r["kind"], "state": state, "created_at": r["created_at"],
                    "body": json.loads(r["body"]), "replies": replies[r["id"]], "rating": ratings.get(r["id"]),
                    "case": case, "due_at": case["due_at"] if case else None})
    return out


async def device_submissions(db: Database, device_id: str, cursor: str | None = None,
                             limit: int = MAX_PAGE) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, up to `limit`; the cursor names where the next page starts."""
    sql, params = _SELECT, [device_id]
    if cursor:
        created, sep, sid = cursor.partition("~")
        if not sep or not created or not sid:
            raise BadCursor()
        sql += " AND (s.created_at < ? OR (s.created_at = ? AND s.id < ?))"
        params += [created, created, sid]
    rows = await db.fetchall(sql + " ORDER BY s.created_at DESC, s.id DESC LIMIT ?", [*params, limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = f"{rows[-1]['created_at']}~{rows[-1]['id']}" if more and rows else None
    return await _views(db, device_id, rows), next_cursor


async def device_submission(db: Database, device_id: str, submission_id: str) -> dict[str, Any] | None:
    """One of this device's submissions, or None (another device's is not shown on this one)."""
    rows = await db.fetchall(_SELECT + " AND s.id = ?", (device_id, submission_id))
    views = await _views(db, device_id, rows)
    return views[0] if views else None


async def checked_in(db: Database, device: Device, day: date) -> bool:
    return bool(await db.fetchvalue("SELECT 1 FROM submissions WHERE id = ?", (device.checkin_id(day),)))


async def submission_owner(db: Database, submission_id: str) -> str | None:
    """The device that sent a submission, or None when this box holds no such submission."""
    owner = await db.fetchvalue("SELECT device_id FROM submissions WHERE id = ?", (submission_id,))
    return None if owner is None else str(owner)

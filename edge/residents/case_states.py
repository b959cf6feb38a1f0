"""Where each resident's request stands at the city: the hub-owned `case_status` records of the down feed.

The hub sends one per submission (its id is the submission's UUID) and replaces it at each change of the case's
state, unit or due date (docs/cases.md, "The resident's side"). The edge keeps the latest in `case_states` and
"my submissions" shows it: 已受理, 办理中, 已答复 or 已办结, with the expected date while the case is open.
The body's shape is checked by the protocol before a batch is applied (protocol/case_status.py on the hub's side);
this applier still reads it defensively, because a malformed record must never stall the down feed.
"""

from __future__ import annotations

import logging
from typing import Any

import aiosqlite

from protocol.database import Database

log = logging.getLogger(__name__)

# The hub's case states, and the state "my submissions" reports for each (the contract's queued | delivered |
# in_progress | answered | closed): a case not yet signed for by a unit is delivered and received (已受理).
CASE_STATES = ("new", "assigned", "in_progress", "answered", "closed")
SHOWN_STATE = {"new": "delivered", "assigned": "delivered", "in_progress": "in_progress", "answered": "answered",
               "closed": "closed"}
_TEXT_FIELDS = ("case_id", "due_at", "due_date", "unit_name", "at")


def shown_state(case: dict[str, Any] | None, replied: bool, delivered: bool) -> str:
    """The state a resident's submission shows: the city's case when it has told, else what the box knows."""
    if case is not None:  # the city's word on it is newer than anything the box knows by itself
        return SHOWN_STATE[case["state"]]
    return "answered" if replied else ("delivered" if delivered else "queued")


def _text_or_none(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


async def apply_case_status(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    """Apply a `case_status` put or delete inside the down-apply transaction."""
    submission_id = op["id"]
    if op["op"] == "delete":
        await conn.execute("DELETE FROM case_states WHERE submission_id = ?", (submission_id,))
        return
    body = op["body"]
    state = body.get("state")
    if state not in CASE_STATES:
        log.warning("case_status %s with an unknown state %r skipped", submission_id, state)
        return
    fields = {name: _text_or_none(body.get(name)) for name in _TEXT_FIELDS}
    await conn.execute(
        "INSERT OR REPLACE INTO case_states (submission_id, case_id, state, due_at, due_date, unit_name, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (submission_id, fields["case_id"] or "", state, fields["due_at"], fields["due_date"], fields["unit_name"],
         fields["at"] or ""),
    )


async def case_states_of(db: Database, submission_ids: list[str]) -> dict[str, dict[str, Any]]:
    """{submission id: {state, due_at, due_date, unit_name, at}} for those of the ids the hub has told about."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in await db.fetchall(
            "SELECT submission_id, state, due_at, due_date, unit_name, at FROM case_states"
            f" WHERE submission_id IN ({marks})", chunk,
        ):
            out[r["submission_id"]] = {"state": r["state"], "due_at": r["due_at"], "due_date": r["due_date"],
                                       "unit_name": r["unit_name"], "at": r["at"]}
    return out

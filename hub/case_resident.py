"""What the resident's TV learns of a case: a hub-owned `case_status` record in the village's down feed.

The record's id is the submission's id, so each change replaces the last: the edge keeps one status per request.
It is written in the same transaction as the change, and wakes the village's long poll once committed, as replies
do, so the TV sees it within the contract's 10 s while the line is up. The resident of a duplicate (a case merged
into another, hub/case_merge.py) follows the case it was merged into: its state, and a copy of its replies.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from protocol.case_status import LABELS
from protocol.records import put

from .case_models import Case
from .down_feed import DownFeed
from .reply_records import put_reply
from .store_tx import Tx
from .validate import rfc3339
from .working_days import SHANGHAI

KIND = "case_status"


def local_day(ts: float | None) -> str | None:
    """The date in Asia/Shanghai, as the TV shows an expected date."""
    return datetime.fromtimestamp(ts, SHANGHAI).date().isoformat() if ts is not None else None


def status_body(case: Case, unit_name: str | None, at: float) -> dict[str, Any]:
    # The expected date is the end of the working day it falls on, 24:00 Shanghai: show the day itself.
    due_day = local_day(case.due_at - 1) if case.due_at is not None else None
    return {
        "submission_id": case.submission_id,
        "case_id": case.id,
        "state": case.state,
        "label": LABELS[case.state],
        "due_at": rfc3339(case.due_at),
        "due_date": due_day if case.state in ("new", "assigned", "in_progress") else None,
        "unit_name": unit_name,
        "at": rfc3339(at),
    }


async def tell_village(tx: Tx, down: DownFeed, case: Case) -> None:
    """Send the case's state down to the village it came from (cases filed through Open311 have none), and to the
    residents of its duplicates; a duplicate's resident is told the state of the case it was merged into."""
    root, duplicates = await tx.merge_relatives(case.id)
    if root is not None:
        await _tell(tx, down, root, case)
        return
    await _tell(tx, down, case, case)
    for duplicate in duplicates:
        await _tell(tx, down, case, duplicate)


async def tell_new_case(tx: Tx, down: DownFeed, case: Case) -> None:
    """The first status of a case opened just now, which nothing can have been merged with yet: no look-up of
    merges, as this runs once per submission inside an edge's up batch."""
    await _tell(tx, down, case, case)


async def _tell(tx: Tx, down: DownFeed, state_of: Case, resident_of: Case) -> None:
    if resident_of.village_id is None or resident_of.submission_id is None:
        return
    unit = await tx.get_unit(state_of.unit) if state_of.unit else None
    seen = replace(state_of, id=resident_of.id, submission_id=resident_of.submission_id)
    op = put(KIND, resident_of.submission_id, status_body(seen, unit.name if unit else None, tx.now))
    await down.append(tx, {resident_of.village_id: [op]})


async def reply_to_duplicates(tx: Tx, down: DownFeed, case: Case, text: str, by: str, user: str) -> None:
    """The answer of a case goes to the residents of its duplicates too, each on their own request, so a resident
    whose case was merged is never left without an answer; each duplicate's history says so."""
    for duplicate in await tx.duplicates_of(case.id):
        if duplicate.village_id is None or duplicate.submission_id is None:
            continue  # filed through Open311: no TV to tell
        await put_reply(tx, down, duplicate.village_id, duplicate.submission_id, text, by)
        await tx.add_case_event(duplicate.id, user, "merged_reply", f"the reply of case:{case.id} sent to its resident")

"""What the resident's TV learns of a case: a hub-owned `case_status` record in the village's down feed.

The record's id is the submission's id, so each change replaces the last: the edge keeps one status per request.
It is written in the same transaction as the change, and wakes the village's long poll once committed, as replies
do, so the TV sees it within the contract's 10 s while the line is up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from protocol.case_status import LABELS
from protocol.records import put

from .case_models import Case
from .down_feed import DownFeed
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
    """Send the case's state down to the village it came from (cases filed through Open311 have none)."""
    if case.village_id is None or case.submission_id is None:
        return
    unit = await tx.get_unit(case.unit) if case.unit else None
    op = put(KIND, case.submission_id, status_body(case, unit.name if unit else None, tx.now))
    await down.append(tx, {case.village_id: [op]})

"""Cases: every feedback, consultation, service request (elderly care included) and incident becomes exactly one
case when its submission reaches the hub, in the up batch's own transaction; what the village sends about it later
(the resident's rating, a local reply by village staff, a handover to the town) moves it on.

`step` is the one way a case changes: the change, a line of its history, an audit entry and the resident's
`case_status` record, all in the caller's transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

from . import audit
from .case_models import OPEN_STATES, Case
from .case_resident import reply_to_duplicates, tell_new_case, tell_village
from .case_routing import CASE_KINDS, DEFAULT_DAYS, category_of, route_for, words_of
from .down_feed import DownFeed
from .models import Submission
from .store_tx import Tx
from .working_days import add_working_days

log = logging.getLogger(__name__)

ACCEPT_DAYS = 1  # a unit signs for (签收) a case within one working day
AUTO_CLOSE_S = 7 * 24 * 3600  # an answered case nobody rated closes itself after 7 days
LOW_SCORE = 2  # a rating of 1 or 2 reopens the case once (重办)
CITY_NAME = "市级平台"  # who signs a reply the city gave, as the admin token's replies are signed


def village_user(village_id: str) -> str:
    """Who acts, in history and audit, when a village's box sends something (a resident, its staff)."""
    return f"village:{village_id}"


async def step(tx: Tx, down: DownFeed, case: Case, user: str, action: str, detail: str = "",
               **changes: Any) -> Case:
    """Change the case, note it in its history and the audit log, and tell the resident's TV."""
    await tx.add_case_event(case.id, user, action, detail)
    await audit.record(tx, user, f"case_{action}", f"case:{case.id}", case.place, detail)
    if not changes:
        return case
    await tx.update_case(case.id, **changes)
    changed = await tx.get_case(case.id)
    assert changed is not None
    if changes.keys() & {"state", "due_at", "unit"}:
        await tell_village(tx, down, changed)
    return changed


async def assigned_fields(tx: Tx, unit: str) -> dict[str, Any]:
    """What assigning to a unit sets: the unit and the deadline to sign for it."""
    accept = add_working_days(tx.now, ACCEPT_DAYS)
    return {"state": "assigned", "unit": unit, "accept_by": accept.at, "accepted_at": None}


async def open_case(tx: Tx, down: DownFeed, case: Case, user: str) -> bool:
    """Route a new case and store it; False (and nothing written) if its submission already has one."""
    rule = await route_for(tx, case.kind, case.category)
    days = rule.days if rule else DEFAULT_DAYS[case.kind]
    due = add_working_days(case.received_at, days)
    fields: dict[str, Any] = {"time_limit_days": days, "due_at": due.at, "calendar_fallback": due.fallback}
    if rule is not None:
        fields.update(await assigned_fields(tx, rule.unit))
        if fields["accept_by"] > due.at:
            fields["accept_by"] = due.at  # a same-day matter is signed for the same day
    opened = replace(case, **fields)
    if not await tx.insert_case(opened):
        return False
    routed = f"routed to unit:{rule.unit} ({rule.kind}/{rule.category or '*'})" if rule else \
        f"to the dispatchers of {opened.dispatch_level}"
    await step(tx, down, opened, user, "open", f"{case.kind} {case.category}: {routed}, {days} working day(s)")
    await tell_new_case(tx, down, opened)
    if due.fallback:
        log.warning("case %s: due date counted Monday to Friday past the holiday calendar's years", case.id)
    return True


def new_case(case_id: str, submission_id: str | None, village_id: str | None, town_id: str | None, source: str,
             kind: str, category: str, text: str, at: float) -> Case:
    return Case(case_id, submission_id, village_id, town_id, source, kind, category, text, "new", None, None,
                DEFAULT_DAYS[kind], at, None, None, False, False, None, False, None, None, None, None, None, at)


async def open_for_submission(tx: Tx, down: DownFeed, sub: Submission) -> bool:
    """The submission's case, opened in the up batch's transaction; True if opened now."""
    if sub.kind not in CASE_KINDS:
        return False
    village = await tx.get_village(sub.village_id)
    town = village.town_id if village else None
    case = new_case(str(uuid.uuid4()), sub.id, sub.village_id, town, "village", sub.kind,
                    category_of(sub.kind, sub.body), words_of(sub.body), tx.now)
    return await open_case(tx, down, case, village_user(sub.village_id))


async def _village_case(tx: Tx, village_id: str, submission_id: object, what: str) -> Case | None:
    case = await tx.case_of_submission(village_id, submission_id) if isinstance(submission_id, str) else None
    if case is None:
        log.warning("village %s sent a %s for submission %s, which has no case here", village_id, what,
                    submission_id)
        return None
    return case


async def rate(tx: Tx, down: DownFeed, sub: Submission) -> None:
    """A resident's rating (1-5) of an answered case: 1 or 2 reopens it once to the same unit, else it closes."""
    score = sub.body.get("score")
    case = await _village_case(tx, sub.village_id, sub.body.get("submission_id"), "rating")
    if case is None or isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        return
    user = village_user(sub.village_id)
    if case.state != "answered":
        await step(tx, down, case, user, "rate", f"score {score} while {case.state}: kept, nothing changed",
                   rating=score)
        return
    if score <= LOW_SCORE and not case.reopened:
        # Back to the unit that answered; a case the village answered itself goes to its town's dispatchers.
        due = add_working_days(tx.now, case.time_limit_days)
        await step(tx, down, case, user, "reopen", f"score {score}: 重办 by {case.unit or case.dispatch_level}",
                   rating=score, state="in_progress" if case.unit else "new", reopened=True, answered_at=None,
                   due_at=due.at, calendar_fallback=due.fallback, overdue=False, escalated_to=None)
        return
    await step(tx, down, case, user, "close", f"rated {score}", rating=score, state="closed", closed_at=tx.now)


async def _answered(tx: Tx, down: DownFeed, case: Case | None, user: str, action: str, text: str,
                    handled_by: str) -> None:
    if case is None or case.state not in OPEN_STATES:
        return
    await step(tx, down, case, user, action, text[:500], state="answered", answered_at=tx.now, handled_by=handled_by)
    village = await tx.get_village(case.village_id) if handled_by.startswith("village:") and case.village_id else None
    await reply_to_duplicates(tx, down, case, text, village.name if village else CITY_NAME, user)


async def answered_locally(tx: Tx, down: DownFeed, village_id: str, op: dict[str, Any]) -> None:
    """Village staff answered at their edge (a `local_reply`): the village is the handling unit; answered."""
    case = await _village_case(tx, village_id, op["body"].get("submission_id"), "local reply")
    await _answered(tx, down, case, village_user(village_id), "local_reply", str(op["body"].get("text", "")),
                    f"village:{village_id}")


async def answered_by_city(tx: Tx, down: DownFeed, sub: Submission, user: str, text: str) -> None:
    """A reply through `POST /api/v1/submissions/{id}/replies` (the admin token, as before cases) answers the case
    too, with the city as the handling unit, so the case does not run overdue behind an answer already given."""
    await _answered(tx, down, await tx.case_of_submission(sub.village_id, sub.id), user, "reply", text, "city")


async def handed_to_town(tx: Tx, down: DownFeed, village_id: str, op: dict[str, Any]) -> None:
    """Village staff pressed 转交镇街 (a `submission_handover`): the case goes to its town's dispatchers."""
    case = await _village_case(tx, village_id, op["body"].get("submission_id"), "handover")
    if case is None or case.state not in OPEN_STATES:
        return
    village = await tx.get_village(village_id)
    town = village.town_id if village else case.town_id
    if case.state == "new" and case.unit is None and case.town_id == town:
        return  # already with the town's dispatchers (a replayed handover)
    note = op["body"].get("note")
    await step(tx, down, case, village_user(village_id), "handover",
               f"转交镇街 town:{town}" + (f": {note}" if isinstance(note, str) and note else ""),
               state="new", unit=None, town_id=town, accept_by=None, accepted_at=None)

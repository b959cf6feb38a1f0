"""The deadline sweep: a case not signed for by its accept_by, or not answered by its due_at, is marked overdue and
escalated to the parent level's dispatchers (a town's case to the city); an answered case nobody rated closes
itself after 7 days.

It runs in the hub every SWEEP_S seconds (so a deadline is noticed within that bound) and is safe to run any
number of times: each case is re-read inside its own transaction before it is changed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from .actors import SCHEDULER
from .case_models import Case
from .cases import AUTO_CLOSE_S, step
from .down_feed import DownFeed
from .store import HubStore
from .validate import rfc3339

log = logging.getLogger(__name__)

SWEEP_S = 30.0


@dataclass
class Swept:
    overdue: int = 0
    closed: int = 0


def parent_level(case: Case) -> str:
    """Whose dispatchers an overdue case escalates to: a town's go to the city; the city's stay there."""
    return "city"


def missed(case: Case, at: float) -> str | None:
    """Which deadline an open case has missed by `at`, if any."""
    if case.state == "assigned" and case.accept_by is not None and case.accept_by < at:
        return f"not signed for by {rfc3339(case.accept_by)}"
    # A case still with its dispatchers (never assigned, or returned) is on the resident's clock too: left there past
    # its due date it escalates like any other, or "not ours" would stop the clock.
    if case.state in ("new", "assigned", "in_progress") and case.due_at is not None and case.due_at < at:
        return f"not answered by {rfc3339(case.due_at)}"
    return None


async def sweep(store: HubStore, down: DownFeed, at: float | None = None) -> Swept:
    """One pass over the cases whose deadlines have passed by `at` (now by default)."""
    at = store.clock() if at is None else at
    done = Swept()
    for case_id in await store.cases_due_for_sweep(at, at - AUTO_CLOSE_S):
        async with store.transaction() as tx:
            case = await tx.get_case(case_id)
            if case is None:
                continue
            if case.state == "answered" and case.answered_at is not None and case.answered_at < at - AUTO_CLOSE_S:
                await step(tx, down, case, SCHEDULER.user, "auto_close", "answered 7 days ago and not rated",
                           state="closed", closed_at=tx.now)
                done.closed += 1
                continue
            why = missed(case, at)
            if case.overdue or why is None:
                continue
            level = parent_level(case)
            case = await step(tx, down, case, SCHEDULER.user, "overdue", why, overdue=True)
            await step(tx, down, case, SCHEDULER.user, "escalate", f"to the dispatchers of {level}",
                       escalated_to=level)
            done.overdue += 1
    if done.overdue or done.closed:
        log.info("case deadlines: %d overdue and escalated, %d closed unrated", done.overdue, done.closed)
    return done


async def run(store: HubStore, down: DownFeed) -> None:
    """The background task: sweep every SWEEP_S seconds for as long as the hub runs."""
    while True:
        try:
            await sweep(store, down)
        except Exception:
            log.exception("case deadline sweep failed; trying again")
        await asyncio.sleep(SWEEP_S)

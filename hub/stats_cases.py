"""The cases part of GET /api/v1/stats: how the cases received in a period were served, for the scope, each unit,
town and village (docs/statistics.md defines each figure).

The store gives the few columns of the period's cases (hub/store_stats_cases.py); the figures are counted here in
one pass, so the scope's, a town's and a village's are the same sums over different sets of cases.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .case_models import OPEN_STATES, STATE_NAMES
from .stats_period import Period
from .store import HubStore

SATISFIED = (4, 5)  # 满意: a rating of 4 or 5 of 5
SCORES = (1, 2, 3, 4, 5)


@dataclass
class CaseStats:
    cases: dict[str, Any] | None = None  # the contract's `cases` figures of the whole scope
    units: list[dict[str, Any]] = field(default_factory=list)  # [{id, name, cases: {...}}]
    by_town: dict[str, dict[str, Any]] = field(default_factory=dict)  # town id -> its `cases` figures
    by_village: dict[str, dict[str, Any]] = field(default_factory=dict)  # village id -> its `cases` figures
    no_cases: dict[str, Any] = field(default_factory=dict)  # the figures of a place without cases in the period

    def of_town(self, town_id: str) -> dict[str, Any]:
        return self.by_town.get(town_id, self.no_cases)

    def of_village(self, village_id: str) -> dict[str, Any]:
        return self.by_village.get(village_id, self.no_cases)


def share(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """A rate or mean; None (JSON null) when there is nothing to divide by, so "none" and "no data" stay apart."""
    return round(numerator / denominator, digits) if denominator else None


def _signed_at(case: dict[str, Any]) -> float | None:
    """When the unit signed for the case: its acceptance, or its answer if it answered without signing first."""
    signed: float | None = case["accepted_at"] if case["accepted_at"] is not None else case["answered_at"]
    return signed


def _overdue_now(case: dict[str, Any], now: float) -> bool:
    """Still open, and past a deadline (marked by the sweep, or missed since its last run)."""
    if case["state"] not in OPEN_STATES:
        return False
    late_to_sign = case["state"] == "assigned" and case["accept_by"] is not None and case["accept_by"] < now
    late_to_answer = case["due_at"] is not None and case["due_at"] < now
    return bool(case["overdue"]) or late_to_sign or late_to_answer


def _on_time(deadline: float | None, done: float | None, now: float) -> bool | None:
    """Whether a step was done by its deadline; None while it is neither done nor late (not yet decided)."""
    if deadline is None:
        return None
    if done is not None:
        return done <= deadline
    return False if deadline < now else None


def case_figures(cases: Iterable[dict[str, Any]], now: float) -> dict[str, Any]:
    """The figures of a set of cases (a scope, a unit, a town, a village) as of `now`."""
    by_state = dict.fromkeys(STATE_NAMES, 0)
    accepted = [0, 0]  # on time, decided
    answered = [0, 0]
    overdue = 0
    hours: list[float] = []
    scores = dict.fromkeys(SCORES, 0)
    for case in cases:
        by_state[case["state"]] += 1
        for tally, verdict in ((accepted, _on_time(case["accept_by"], _signed_at(case), now)),
                               (answered, _on_time(case["due_at"], case["answered_at"], now))):
            if verdict is not None:
                tally[0] += verdict
                tally[1] += 1
        overdue += _overdue_now(case, now)
        if case["answered_at"] is not None:
            hours.append((case["answered_at"] - case["received_at"]) / 3600)
        if case["rating"] in scores:
            scores[case["rating"]] += 1
    ratings = sum(scores.values())
    satisfied = sum(scores[s] for s in SATISFIED)
    return {
        "total": sum(by_state.values()),
        "by_state": by_state,
        "accepted_on_time": accepted[0],
        "acceptance_due": accepted[1],
        "accepted_on_time_rate": share(*accepted),
        "answered_on_time": answered[0],
        "answer_due": answered[1],
        "answered_on_time_rate": share(*answered),
        "overdue": overdue,
        "answered": len(hours),
        "median_hours_to_answer": round(statistics.median(hours), 1) if hours else None,
        "satisfaction": {
            "ratings": ratings,
            "satisfied": satisfied,
            "satisfied_rate": share(satisfied, ratings),
            "mean": share(sum(s * n for s, n in scores.items()), ratings, 2),
            "distribution": {str(s): n for s, n in scores.items()},
        },
    }


def _grouped(cases: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        if case[key] is not None:
            groups.setdefault(case[key], []).append(case)
    return groups


async def case_stats(store: HubStore, scope: str, period: Period) -> CaseStats:
    """The cases received in `period` inside `scope`: the scope's figures, each unit's that held any, each town's
    and village's (`of_town` and `of_village` give zeros to a place without cases)."""
    start, end = period.bounds()
    now = store.clock()
    cases = await store.cases_received_in(scope, start, end)
    names = await store.place_names()
    units = sorted(_grouped(cases, "unit").items())
    return CaseStats(
        cases=case_figures(cases, now),
        units=[{"id": uid, "name": names.get(f"unit:{uid}", uid), "cases": case_figures(held, now)}
               for uid, held in units],
        by_town={tid: case_figures(held, now) for tid, held in _grouped(cases, "town_id").items()},
        by_village={vid: case_figures(held, now) for vid, held in _grouped(cases, "village_id").items()},
        no_cases=case_figures([], now),
    )

"""The cases part of GET /api/v1/stats: how the cases received in a period were served, for the scope, each unit,
town and village (docs/statistics.md defines each figure).

SQLite sums the period's cases per village and unit (hub/store_stats_cases.py); here those sums are added up per
place and turned into rates, so the scope's, a town's, a village's and a unit's figures are the same counts over
different sets of cases. The median hours to answer come from the answered cases' seconds per village and unit (hub/stats_median.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .case_models import STATE_NAMES
from .stats_median import median_of_sorted
from .stats_period import Period
from .store import HubStore
from .store_stats_cases import CASE_COUNTS, SCORES

SATISFIED = (4, 5)  # 满意: a rating of 4 or 5 of 5


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


def summed(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The counts of several groups of cases added up."""
    total = dict.fromkeys(CASE_COUNTS, 0)
    for row in rows:
        for name in CASE_COUNTS:
            total[name] += row[name] or 0
    return total


def case_figures(t: dict[str, int], median_hours: float | None) -> dict[str, Any]:
    """The figures of a set of cases (a scope, a unit, a town, a village) from their counts."""
    ratings = sum(t[f"score_{s}"] for s in SCORES)
    satisfied = sum(t[f"score_{s}"] for s in SATISFIED)
    return {
        "total": t["total"],
        "by_state": {state: t[f"state_{state}"] for state in STATE_NAMES},
        "accepted_on_time": t["accepted_on_time"],
        "acceptance_due": t["acceptance_due"],
        "accepted_on_time_rate": share(t["accepted_on_time"], t["acceptance_due"]),
        "answered_on_time": t["answered_on_time"],
        "answer_due": t["answer_due"],
        "answered_on_time_rate": share(t["answered_on_time"], t["answer_due"]),
        "overdue": t["overdue"],
        "answered": t["answered"],
        "median_hours_to_answer": round(median_hours, 1) if median_hours is not None else None,
        "satisfaction": {
            "ratings": ratings,
            "satisfied": satisfied,
            "satisfied_rate": share(satisfied, ratings),
            "mean": share(sum(s * t[f"score_{s}"] for s in SCORES), ratings, 2),
            "distribution": {str(s): t[f"score_{s}"] for s in SCORES},
        },
    }


async def _median_hours(store: HubStore, scope: str, period: Period) -> dict[str, float]:
    """The median hours to answer by place: 'scope' for all, and 'town:ID', 'village:ID', 'unit:ID'."""
    groups: dict[str, list[list[int]]] = {}
    for town, village, unit, held in await store.seconds_to_answer(scope, period):
        held.sort()
        for place in ("scope", town and f"town:{town}", village and f"village:{village}", unit and f"unit:{unit}"):
            if place:
                groups.setdefault(place, []).append(held)
    medians = {place: median_of_sorted(sorted_groups) for place, sorted_groups in groups.items()}
    return {place: m / 3600 for place, m in medians.items() if m is not None}


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row[key] is not None:
            groups.setdefault(row[key], []).append(row)
    return groups


async def case_stats(store: HubStore, scope: str, period: Period) -> CaseStats:
    """The cases received in `period` inside `scope`, as of now: the scope's figures, each unit's that held any,
    each town's and village's (`of_town` and `of_village` give zeros to a place without cases)."""
    rows = await store.case_counts(scope, period, store.clock())
    medians = await _median_hours(store, scope, period)
    names = await store.place_names()

    def figures_of(kind: str) -> dict[str, dict[str, Any]]:
        key = {"town": "town_id", "village": "village_id", "unit": "unit"}[kind]
        return {ident: case_figures(summed(held), medians.get(f"{kind}:{ident}"))
                for ident, held in sorted(_grouped(rows, key).items())}

    return CaseStats(
        cases=case_figures(summed(rows), medians.get("scope")),
        units=[{"id": uid, "name": names.get(f"unit:{uid}", uid), "cases": figures}
               for uid, figures in figures_of("unit").items()],
        by_town=figures_of("town"),
        by_village=figures_of("village"),
        no_cases=case_figures(summed([]), None),
    )

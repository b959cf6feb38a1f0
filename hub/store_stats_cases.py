"""The SQL behind the cases' statistics (hub/stats_cases.py), read-only: the counts of the cases received in a
period, summed by SQL per village and unit, and the median time to answer per place.

Kept apart from store_cases.py (the cases' own reads and writes) so the statistics never change a case. A year of
a city (some 200,000 cases) is summed inside SQLite: only one row per village and unit comes back to Python.
"""

from __future__ import annotations

from typing import Any

from protocol.database import Database

from .case_models import OPEN_STATES, STATE_NAMES
from .store_usage import villages_in_scope_sql

# A period's cases are found by when they were received (the cases' own indexes are by state, village and unit),
# and the index holds every column the figures read, so a year of a city is read from it without the cases' texts.
CASE_STATS_SCHEMA = """
DROP INDEX IF EXISTS cases_received;
CREATE INDEX IF NOT EXISTS cases_received_figures ON cases(received_at, village_id, unit, state, accept_by,
    accepted_at, due_at, answered_at, overdue, rating);
"""
SCORES = (1, 2, 3, 4, 5)
_SIGNED = "coalesce(c.accepted_at, c.answered_at)"  # a village's own reply answers without a unit signing first
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATES)
# Each count: how many of the cases meet the condition (docs/statistics.md defines them). The request's time is
# read from `k`, an uncorrelated subquery SQLite evaluates once.
_NOW = "(SELECT now FROM k)"
CASE_COUNTS: dict[str, str] = {
    "total": "1 = 1",
    **{f"state_{state}": f"c.state = '{state}'" for state in STATE_NAMES},
    "acceptance_due": f"c.accept_by IS NOT NULL AND ({_SIGNED} IS NOT NULL OR c.accept_by < {_NOW})",
    "accepted_on_time": f"{_SIGNED} <= c.accept_by",
    "answer_due": f"c.due_at IS NOT NULL AND (c.answered_at IS NOT NULL OR c.due_at < {_NOW})",
    "answered_on_time": "c.answered_at <= c.due_at",
    "overdue": f"c.state IN ({_OPEN}) AND (c.overdue = 1 OR (c.state = 'assigned' AND c.accept_by < {_NOW})"
               f" OR c.due_at < {_NOW})",
    "answered": "c.answered_at IS NOT NULL",
    **{f"score_{s}": f"c.rating = {s}" for s in SCORES},
}


def cases_in_scope_sql(scope: str) -> tuple[str, list[str]]:
    """A condition on `cases c` joined to its village `v`: the cases a scope's figures count. A village's and a
    town's are the cases from its villages (where the resident lives); a unit's are those it holds; the city's
    are all, the ones filed through Open311 (no village) included."""
    kind, _, ident = scope.partition(":")
    if kind == "unit":
        return "c.unit = ?", [ident]
    return villages_in_scope_sql(scope)


def _received_in(scope: str) -> tuple[str, list[str]]:
    condition, params = cases_in_scope_sql(scope)
    return (" FROM cases c LEFT JOIN villages v ON v.id = c.village_id"
            f" WHERE c.received_at >= ? AND c.received_at < ? AND {condition}"), params


class CaseStatsReads:
    _db: Database

    async def case_counts(self, scope: str, start: float, end: float, now: float) -> list[dict[str, Any]]:
        """Per village (None: filed through Open311) and unit (None: with a dispatcher) of the cases in `scope`
        received in [start, end): the village's town and each of CASE_COUNTS as of `now`."""
        cases, params = _received_in(scope)
        sums = ", ".join(f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}" for name, cond in CASE_COUNTS.items())
        rows = await self._db.fetchall(
            f"WITH k AS (SELECT ? AS now) SELECT c.village_id AS village_id, v.town_id AS town_id, c.unit AS unit,"
            f" {sums}{cases} GROUP BY c.village_id, c.unit",
            [now, start, end, *params],
        )
        return [dict(r) for r in rows]

    async def hours_to_answer(self, scope: str, start: float, end: float) -> list[tuple[str | None, str | None,
                                                                                  str | None, float]]:
        """(town, village, unit, hours from receiving to answering) of the answered cases of `case_counts`, the
        quickest first (so each place's hours come out sorted for its median)."""
        cases, params = _received_in(scope)
        rows = await self._db.fetchall(
            f"SELECT v.town_id, c.village_id, c.unit, (c.answered_at - c.received_at) / 3600.0 AS h{cases}"
            " AND c.answered_at IS NOT NULL ORDER BY h",
            [start, end, *params],
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

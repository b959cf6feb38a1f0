"""The SQL behind the cases' statistics (hub/stats_cases.py): the few columns of the cases received in a period,
with the town of each case's village, read-only.

Kept apart from store_cases.py (the cases' own reads and writes) so the statistics never change a case.
"""

from __future__ import annotations

from typing import Any

from protocol.database import Database

from .store_usage import villages_in_scope_sql

# A period's cases are found by when they were received (the cases' own indexes are by state, village and unit).
CASE_STATS_SCHEMA = """
CREATE INDEX IF NOT EXISTS cases_received ON cases(received_at);
"""
# What a case's figures need: where it came from, who has it, its state, its times and its rating.
STATS_COLUMNS = ("c.village_id AS village_id", "v.town_id AS town_id", "c.unit AS unit", "c.state AS state",
                 "c.received_at AS received_at", "c.accept_by AS accept_by", "c.accepted_at AS accepted_at",
                 "c.due_at AS due_at", "c.answered_at AS answered_at", "c.overdue AS overdue", "c.rating AS rating")


def cases_in_scope_sql(scope: str) -> tuple[str, list[str]]:
    """A condition on `cases c` joined to its village `v`: the cases a scope's figures count. A village's and a
    town's are the cases from its villages (where the resident lives); a unit's are those it holds; the city's
    are all, the ones filed through Open311 (no village) included."""
    kind, _, ident = scope.partition(":")
    if kind == "unit":
        return "c.unit = ?", [ident]
    return villages_in_scope_sql(scope)


class CaseStatsReads:
    _db: Database

    async def cases_received_in(self, scope: str, start: float, end: float) -> list[dict[str, Any]]:
        """The cases in `scope` received at or after `start` and before `end` (unix seconds), with STATS_COLUMNS."""
        condition, params = cases_in_scope_sql(scope)
        rows = await self._db.fetchall(
            f"SELECT {', '.join(STATS_COLUMNS)} FROM cases c LEFT JOIN villages v ON v.id = c.village_id"
            f" WHERE c.received_at >= ? AND c.received_at < ? AND {condition}",
            [start, end, *params],
        )
        return [dict(r) for r in rows]

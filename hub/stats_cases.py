"""The cases part of GET /api/v1/stats: the seam the cases' statistics fill (hub/routes_stats.py calls it).

Until they do, the answer says so plainly: `cases` is null and no unit or village has case figures. Fill
`case_stats` from the cases' store (hub/store_cases.py: `CasesReads`; a case's received_at, accept_by, accepted_at,
due_at, answered_at, overdue and rating) with the contract's `cases` shape, per unit and village, and add their
definitions (working days: hub/working_days.py) to docs/statistics.md. A year of a city should come from rollups
kept as cases change, as the usage does (hub/store_usage.py), to answer within a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .stats_period import Period
from .store import HubStore


@dataclass
class CaseStats:
    cases: dict[str, Any] | None = None  # {total, by_state, accepted_on_time_rate, answered_on_time_rate, overdue,
    #                                       satisfaction: {ratings, satisfied_rate, mean}} of the whole scope
    units: list[dict[str, Any]] = field(default_factory=list)  # [{id, name, cases: {...}}]
    by_village: dict[str, dict[str, Any]] = field(default_factory=dict)  # village id -> its `cases` figures


async def case_stats(store: HubStore, scope: str, period: Period) -> CaseStats:
    """The cases received in `period` inside `scope` (Period.bounds() gives the period in unix seconds)."""
    return CaseStats()

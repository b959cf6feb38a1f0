"""The figures of one scope over one period, as GET /api/v1/stats answers them: the JSON, the workbook, the
dashboard and the monthly report are all built from this one answer, so they cannot disagree.

The status history is folded into the online time per day first, so the online share counts every pull so far.
"""

from __future__ import annotations

from typing import Any

from .errors import NotFound
from .online_share import fold_status_history
from .stats_cases import case_stats
from .stats_period import Period
from .stats_usage import usage_stats
from .store import HubStore

STATS_ROLES = ("viewer", "dispatcher", "handler", "admin")  # who may read the figures (in their own scope)


async def scope_name(store: HubStore, scope: str) -> str:
    """The place's name; 404 `no_such_place` for a place that does not exist."""
    names = await store.place_names()
    if scope not in names:
        raise NotFound(f"{scope} 不存在。There is no place {scope}.", "no_such_place")
    return names[scope]


async def stats_answer(store: HubStore, scope: str, period: Period, max_gap_s: float) -> dict[str, Any]:
    """`{scope, scope_name, from, to, cases, usage, units, towns, villages}` (docs/statistics.md)."""
    name = await scope_name(store, scope)
    await fold_status_history(store, max_gap_s)
    usage = await usage_stats(store, scope, period)
    cases = await case_stats(store, scope, period)
    return {
        "scope": scope, "scope_name": name, "from": period.first.isoformat(), "to": period.last.isoformat(),
        "cases": cases.cases, "usage": usage["usage"], "units": cases.units,
        "towns": [{**t, "cases": cases.of_town(t["id"])} for t in usage["towns"]],
        "villages": [{**v, "cases": cases.of_village(v["id"])} for v in usage["villages"]],
    }

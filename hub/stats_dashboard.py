"""What the officials' dashboard shows (GET /api/v1/stats/dashboard): the scope's figures for the period, the
headline rates with their change from the previous period of the same length, a trend by week, and each village's
place on the map with its online state and overdue cases.

Built from the same answer as GET /api/v1/stats (hub/stats_answer.py), plus per-day sums from the kept totals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .config import HubConfig
from .stats_answer import stats_answer
from .stats_cases import case_figures, share, summed
from .stats_period import Period
from .stats_usage import usage_stats
from .status_poller import is_online, stale_after_s
from .store import HubStore

Figures = dict[str, Any]
# The headline rates (docs/statistics.md defines each), in the order the dashboard and the report show them.
HEADLINES: list[tuple[str, Callable[[Figures], float | None]]] = [
    ("accepted_on_time_rate", lambda a: a["cases"]["accepted_on_time_rate"]),  # 签收及时率
    ("answered_on_time_rate", lambda a: a["cases"]["answered_on_time_rate"]),  # 按时办结率
    ("satisfied_rate", lambda a: a["cases"]["satisfaction"]["satisfied_rate"]),  # 满意率
    ("tv_reach", lambda a: a["usage"]["tv_reach"]),
    ("alerts_acknowledged_rate", lambda a: a["usage"]["alerts"]["acknowledged_rate"]),
    ("checkin_compliance", lambda a: a["usage"]["checkins"]["compliance"]),
    ("online_share", lambda a: a["usage"]["online_share"]),
]


def headlines(now: Figures, before: Figures) -> list[dict[str, Any]]:
    """Each headline rate, the previous period's, and the change in rate points (None when either is missing)."""
    out = []
    for key, get in HEADLINES:
        value, previous = get(now), get(before)
        change = round(value - previous, 4) if value is not None and previous is not None else None
        out.append({"key": key, "value": value, "previous": previous, "change": change})
    return out


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def weekly_trend(store: HubStore, scope: str, period: Period) -> list[dict[str, Any]]:
    """Per week (Monday to Sunday, cut at the period's ends) the cases received and their rates, and TV reach."""
    cases: dict[date, list[dict[str, Any]]] = {}
    for row in await store.case_counts(scope, period, store.clock(), by="day"):
        cases.setdefault(_monday(date.fromisoformat(row["day"])), []).append(row)
    usage: dict[date, list[int]] = {}
    for row in await store.usage_by_day(scope, period.first.isoformat(), period.last.isoformat()):
        held = usage.setdefault(_monday(date.fromisoformat(row["day"])), [0, 0])
        held[0] += row["tvs_active"] or 0
        held[1] += row["households"] or 0
    weeks = []
    week = _monday(period.first)
    while week <= period.last:
        figures = case_figures(summed(cases.get(week, [])), None)
        tvs, households = usage.get(week, [0, 0])
        weeks.append({
            "week": max(week, period.first).isoformat(), "received": figures["total"],
            "accepted_on_time_rate": figures["accepted_on_time_rate"],
            "answered_on_time_rate": figures["answered_on_time_rate"],
            "satisfied_rate": figures["satisfaction"]["satisfied_rate"], "tv_reach": share(tvs, households),
        })
        week += timedelta(days=7)
    return weeks


async def village_map(store: HubStore, config: HubConfig, answer: Figures) -> list[dict[str, Any]]:
    """Each village of the answer with its coordinates, whether its box answers now, and its overdue cases."""
    statuses = await store.status_rows()
    overdue = {v["id"]: v["cases"]["overdue"] for v in answer["villages"]}
    return [{**place, "online": is_online(statuses.get(place["id"]), config), "overdue": overdue.get(place["id"], 0)}
            for place in await store.village_places(answer["scope"])]


async def scope_figures(store: HubStore, scope: str, period: Period) -> Figures:
    """`{cases, usage}` of the whole scope only (no places, no medians): what the previous period's headlines need."""
    counts = await store.case_counts(scope, period, store.clock(), by="scope")
    usage = await usage_stats(store, scope, period)
    return {"cases": case_figures(summed(counts), None), "usage": usage["usage"]}


async def dashboard_answer(store: HubStore, config: HubConfig, scope: str, period: Period,
                           before_period: Period | None = None) -> dict[str, Any]:
    """The stats answer with `previous` {from, to}, `headlines`, `weeks` and `map` added. The previous period is
    the one of the same length just before, unless given (a month's report compares with the month before)."""
    answer = await stats_answer(store, scope, period, stale_after_s(config))
    before_period = before_period or period.previous()
    before = await scope_figures(store, scope, before_period)
    return {
        **answer,
        "previous": {"from": before_period.first.isoformat(), "to": before_period.last.isoformat()},
        "headlines": headlines(answer, before),
        "weeks": await weekly_trend(store, scope, period),
        "map": await village_map(store, config, answer),
    }

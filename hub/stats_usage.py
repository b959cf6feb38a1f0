"""The usage part of GET /api/v1/stats: how the platform serves the villages in a scope over a period.

Every figure is a ratio of sums over village-days (docs/statistics.md defines each): sums of the villages' daily
records, kept as columns (hub/store_usage.py), so a year of a city is one indexed aggregate, not a scan of JSON.
"""

from __future__ import annotations

from typing import Any

from protocol.records import AREAS

from .stats_period import Period
from .store import HubStore
from .store_usage import USAGE_COUNTS

_PEAKS = ("live_peak", "recorded_peak")
TOP_NOTICES = 20


def _ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """A share or mean; None (JSON null) when there is nothing to divide by."""
    return round(numerator / denominator, digits) if denominator else None


def _add(total: dict[str, float], row: dict[str, Any]) -> None:
    for name in (*USAGE_COUNTS, "days", "online_s", "observed_s"):
        value = row.get(name) or 0
        total[name] = max(total.get(name, 0), value) if name in _PEAKS else total.get(name, 0) + value


def figures(total: dict[str, float]) -> dict[str, Any]:
    """The usage figures of summed rows (one village, a town, the whole scope)."""
    t = {name: total.get(name, 0) for name in (*USAGE_COUNTS, "days", "online_s", "observed_s")}
    return {
        "village_days": int(t["days"]),
        "tv_reach": _ratio(t["tvs_active"], t["households"]),
        "tv_days": int(t["tvs_active"]),
        "household_days": int(t["households"]),
        "notice_reach": _ratio(t["notice_viewers"], t["households"]),
        "notice_views": int(t["notice_views"]),
        "area_opens": {area: int(t[f"opens_{area}"]) for area in AREAS},
        "viewers": {
            "live": {"peak": int(t["live_peak"]), "minutes": int(t["live_minutes"])},
            "recorded": {"peak": int(t["recorded_peak"]), "minutes": int(t["recorded_minutes"])},
        },
        "alerts": {
            "shown": int(t["alerts_shown"]),
            "acknowledged": int(t["alerts_acknowledged"]),
            "acknowledged_rate": _ratio(t["alerts_acknowledged"], t["alerts_shown"]),
            "mean_seconds_to_acknowledge": _ratio(t["ack_seconds"], t["alerts_acknowledged"], 1),
        },
        "checkins": {
            "expected": int(t["checkins_registered"]),
            "done": int(t["checkins_done"]),
            "compliance": _ratio(t["checkins_done"], t["checkins_registered"]),
        },
        "online_share": _ratio(t["online_s"], t["observed_s"]),
    }


async def usage_stats(store: HubStore, scope: str, period: Period) -> dict[str, Any]:
    """{usage: figures of the scope, towns: [...], villages: [...]}, each place with its own figures."""
    rows = await store.usage_by_village(scope, period.first.isoformat(), period.last.isoformat())
    whole: dict[str, float] = {}
    towns: dict[str, tuple[str, dict[str, float]]] = {}
    villages = []
    for row in rows:
        _add(whole, row)
        _add(towns.setdefault(row["town_id"], (row["town_name"], {}))[1], row)
        one: dict[str, float] = {}
        _add(one, row)
        villages.append({"id": row["village_id"], "name": row["name"], "town": row["town_id"],
                         "town_name": row["town_name"], "usage": figures(one)})
    notices = await store.most_viewed_notices(scope, period.first.isoformat(), period.last.isoformat(), TOP_NOTICES)
    return {
        "usage": {**figures(whole), "notices": notices},
        "towns": [{"id": tid, "name": name, "usage": figures(total)} for tid, (name, total) in towns.items()],
        "villages": villages,
    }

"""The cases' kept per-day and per-month totals (hub/store_stats_cases.py) always equal a recount of the raw rows:
after a mix of real case actions through the API (routing, assigning, signing, returning, replying, ratings that
close or reopen, closing, merging a duplicate), for every kind of scope and for periods of whole and partial months; and a database
made before the totals gets them counted once when the hub opens it.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hub.stats_period import Period, today
from hub.store import HubStore

from .case_kit import CaseWorld, case_world
from .kit import HubKit
from .test_stats_cases import CASES

SCOPES = ("city", "town:east", "town:west", "village:e1", "unit:east-mz", "unit:east-cg")


def _periods() -> list[Period]:
    """Today alone, the month so far, and a span with whole months inside and a partial month at either end."""
    now = today()
    return [Period(now, now), Period(now.replace(day=1), now), Period(now - timedelta(days=75), now + timedelta(days=3)),
            Period(date(2000, 1, 1), date(2001, 1, 1))]


def _keyed(rows: list[dict[str, Any]]) -> dict[tuple[Any, Any], dict[str, Any]]:
    return {(r["village_id"], r["unit"]): r for r in rows}


async def _same_as_recount(store: HubStore, periods: list[Period] | None = None) -> None:
    now = time.time()
    for scope in SCOPES:
        for period in periods or _periods():
            kept = await store.case_counts(scope, period, now)
            raw = await store.case_counts_from_rows(scope, period, now)
            assert _keyed(kept) == _keyed(raw), (scope, period)
            whole = await store.case_counts(scope, period, now, by="scope")
            totals = {name: sum(r[name] for r in raw) for name in (raw[0] if raw else {}) if name not in
                      ("village_id", "unit", "town_id")}
            assert [{k: v for k, v in w.items() if k != "town_id"} for w in whole] == ([totals] if raw else [])


async def _mixed_actions(world: CaseWorld) -> None:
    await world.route("consultation", "east-mz", 3)
    w = world
    subs = [await w.submit() for _ in range(7)]
    unrouted = await w.submit("incident", {"text": "路面塌陷", "category": "道路"})
    cases = [await w.case_of(s, w.handler) for s in subs]
    c0, c1, c2, c3, c4, c5, c6 = (c["id"] for c in cases)
    await w.act(c0, "accept", w.handler)
    await w.act(c0, "reply", w.handler, {"text": "已答复。"})
    await w.rate(subs[0], 5)  # closed by a good rating
    await w.act(c1, "accept", w.handler)
    await w.act(c1, "reply", w.handler, {"text": "已答复。"})
    await w.rate(subs[1], 2)  # reopened (重办): answered_at cleared, back in progress
    await w.act(c2, "return", w.handler, {"reason": "不属于本单位"})  # back to the dispatcher, unassigned
    await w.act(c2, "assign", w.town_dispatcher, {"unit": "east-cg"})  # moves to another unit's totals
    await w.act(c3, "accept", w.handler)
    await w.act(c3, "reply", w.handler, {"text": "已答复。"})  # answered, waiting for a rating
    await w.act(c4, "accept", w.handler)
    await w.act(c4, "reply", w.handler, {"text": "已答复。"})
    await w.rate(subs[4], 3)
    await w.act(c5, "close", w.city_dispatcher)
    await w.act(c6, "merge", w.town_dispatcher, {"into": c1})  # a duplicate: closed, counted as its own case
    other = await w.case_of(unrouted)
    await w.act(other["id"], "assign", w.city_dispatcher, {"unit": "east-cg"})


async def test_the_kept_totals_equal_a_recount_of_the_cases_after_a_mix_of_case_actions(kit: HubKit) -> None:
    world = await case_world(kit)
    await _same_as_recount(kit.hub.store)
    await _mixed_actions(world)
    counts = await kit.hub.store.case_counts("city", _periods()[1], time.time(), by="scope")
    assert counts[0]["total"] == 8 and counts[0]["state_closed"] == 4 and counts[0]["score_2"] == 1
    await _same_as_recount(kit.hub.store)


async def test_a_database_made_before_the_totals_gets_them_counted_once_when_opened(tmp_path: Path) -> None:
    store = HubStore(tmp_path / "hub.db")
    await store.open()
    async with store.transaction() as tx:
        for c in CASES:
            assert await tx.insert_case(c)
    await store.close()
    with sqlite3.connect(tmp_path / "hub.db") as old:  # as the version before the totals left it
        for table in ("case_day_totals", "case_month_totals", "rollups_built"):
            old.execute(f"DELETE FROM {table}")
    store = HubStore(tmp_path / "hub.db")
    await store.open()
    try:
        november = Period(date(2026, 11, 1), date(2026, 11, 30))
        kept = await store.case_counts("city", november, time.time(), by="scope")
        assert kept[0]["total"] == 9 and kept[0]["score_5"] == 1  # c9 was received in October
        await _same_as_recount(store, [november, Period(date(2026, 10, 15), date(2026, 11, 14))])
    finally:
        await store.close()

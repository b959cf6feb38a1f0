"""A year of a city's statistics: 85 villages, about 200,000 cases and 31,000 village-days of usage; the
dashboard's JSON answer and the workbook of the whole year for the city, timed through HTTP on a hub in this
process. Baseline in the same run: the same case figures counted from the raw rows of the cases (what every request
did before the per-day totals).

The year is written straight into the hub's SQLite file, as a year of use would leave it; the database's own
triggers keep the per-day totals exactly as they do when the hub changes a case.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import sqlite3
import statistics
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from deploy.local_processes import free_port
from deploy.sample_city import TOWNS, village_rows, write_org_sheet
from hub.actors import CLI
from hub.app import create_app
from hub.case_models import Case
from hub.config import HubConfig
from hub.down_feed import DownFeed
from hub.keys_store import init_hub
from hub.org_import import import_sheet
from hub.services import HUB
from hub.stats_period import STATS_ZONE, Period
from hub.store import HubStore
from hub.store_usage import USAGE_COUNTS

CASES = 200_000
DAYS = 365
RUNS = 5
CASE_COLUMNS = tuple(f for f in Case.__dataclass_fields__ if f != "n")
UNIT_KINDS = (("minzheng", "民政办"), ("chengguan", "城管办"), ("paichusuo", "派出所"))
# Cases of the last weeks are in every state; older ones are answered or closed, a few still open and overdue.
RECENT_S = 30 * 86400
STATES = (("closed", 0.60), ("answered", 0.15), ("in_progress", 0.12), ("assigned", 0.08), ("new", 0.05))
OLD_STATES = (("closed", 0.95), ("answered", 0.04), ("in_progress", 0.01))


def _org_sheet(path: Path) -> Path:
    """The demo city's sheet with three units in every town."""
    write_org_sheet(path, {})
    with path.open("a", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        for town_id, town_name, _ in TOWNS:
            for kind, name in UNIT_KINDS:
                out.writerow(["单位", f"{town_id}-{kind}", f"{town_name}{name}", town_id, ""])
    return path


def _case(n: int, village: str, town: str, received: float, now: float, rng: random.Random) -> tuple[Any, ...]:
    states = STATES if now - received < RECENT_S else OLD_STATES
    state = rng.choices([s for s, _ in states], [w for _, w in states])[0]
    unit = None if state == "new" else f"{town}-{rng.choice(UNIT_KINDS)[0]}"
    accept_by = received + 86400 if unit else None
    due_at = received + 5 * 86400 if unit else None
    signed = received + rng.uniform(0.2, 1.3) * 86400 if state in ("in_progress", "answered", "closed") else None
    answered = received + rng.uniform(2 * 3600, 8 * 86400) if state in ("answered", "closed") else None
    if answered is not None and answered > now:
        answered = now
    rating = rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 30, 53))[0] if state == "closed" and rng.random() < 0.9 else None
    case = Case(
        id=f"case-{n}", submission_id=f"sub-{n}", village_id=village, town_id=town, source="village",
        kind="service_request", category="", text="路灯坏了", state=state, unit=unit, handled_by=None,
        time_limit_days=5, received_at=received, accept_by=accept_by, due_at=due_at, calendar_fallback=False,
        overdue=state in ("assigned", "in_progress") and due_at is not None and due_at < now, escalated_to=None,
        reopened=False, rating=rating, extension_request=None, accepted_at=signed, answered_at=answered,
        closed_at=answered if state == "closed" else None, updated_at=received,
    )
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(case, c) for c in CASE_COLUMNS))


def _usage_row(village: str, day: date, rng: random.Random) -> tuple[Any, ...]:
    households = 300 + hash(village) % 400
    counts = {name: rng.randint(0, 50) for name in USAGE_COUNTS}
    counts.update(households=households, tvs_active=rng.randint(households // 3, households),
                  alerts_acknowledged=rng.randint(0, 5), alerts_shown=5, checkins_registered=20,
                  checkins_done=rng.randint(12, 20))
    return (village, day.isoformat(), *(counts[c] for c in USAGE_COUNTS), json.dumps(counts), time.time())


def _write_year(db: Path, villages: list[tuple[str, str]], first: date, now: float) -> tuple[int, int]:
    rng = random.Random(13)
    start = datetime.combine(first, datetime.min.time(), STATS_ZONE).timestamp()
    conn = sqlite3.connect(db)
    with conn:
        rows = []
        for n in range(CASES):
            village, town = rng.choice(villages)
            rows.append(_case(n, village, town, start + rng.uniform(0, DAYS * 86400 - 3600), now, rng))
        conn.executemany(f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})",
                         rows)
        usage = [_usage_row(v, first + timedelta(days=d), rng) for v, _ in villages for d in range(DAYS)]
        conn.executemany(f"INSERT INTO usage_days (village_id, day, {', '.join(USAGE_COUNTS)}, body, received_at)"
                         f" VALUES (?, ?, {', '.join('?' * len(USAGE_COUNTS))}, ?, ?)", usage)
    conn.close()
    return len(rows), len(usage)


async def _timed_get(session: aiohttp.ClientSession, url: str, token: str) -> float:
    started = time.perf_counter()
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        body = await resp.read()
        assert resp.status == 200, body[:300]
    return time.perf_counter() - started


async def _measure(data: Path, period: Period) -> dict[str, float]:
    app = create_app(HubConfig.load(data))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    token = (data / "admin.token").read_text().strip()
    query = f"scope=city&from={period.first}&to={period.last}"
    half = f"scope=city&from={period.last - timedelta(days=181)}&to={period.last}"  # its previous half-year is full
    base = f"http://127.0.0.1:{port}"
    store = app[HUB].store
    times: dict[str, list[float]] = {"dashboard": [], "half": [], "xlsx": [], "stats": [], "totals": [], "raw": [],
                                     "report": []}
    month = (period.last.replace(day=1) - timedelta(days=1)).isoformat()[:7]  # the last whole month
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            await _timed_get(session, f"{base}/api/v1/stats?{query}", token)  # warm the page cache once
            for _ in range(RUNS):
                times["dashboard"].append(await _timed_get(session, f"{base}/api/v1/stats/dashboard?{query}", token))
                times["half"].append(await _timed_get(session, f"{base}/api/v1/stats/dashboard?{half}", token))
                times["xlsx"].append(await _timed_get(session, f"{base}/api/v1/stats.xlsx?{query}", token))
                times["stats"].append(await _timed_get(session, f"{base}/api/v1/stats?{query}", token))
                times["report"].append(await _timed_get(
                    session, f"{base}/api/v1/reports/monthly.pdf?scope=city&month={month}", token))
                now = time.time()
                started = time.perf_counter()
                await store.case_counts("city", period, now)
                times["totals"].append(time.perf_counter() - started)
                started = time.perf_counter()
                await store.case_counts_from_rows("city", period, now)
                times["raw"].append(time.perf_counter() - started)
    finally:
        await runner.cleanup()
    return {name: statistics.median(values) for name, values in times.items()}


async def _city(data: Path, sheet: Path) -> None:
    """`village-hub init` and `org import`, in this process."""
    init_hub(data, "基准市")
    store = HubStore(data / "hub.db")
    await store.open()
    try:
        await import_sheet(store, DownFeed(store), CLI, sheet)
    finally:
        await store.close()


def run(tmp: Path) -> list[dict[str, Any]]:
    data = tmp / "hub"
    asyncio.run(_city(data, _org_sheet(tmp / "org.csv")))
    villages = [(vid, town) for vid, _, town in village_rows()]
    today = datetime.now(STATS_ZONE).date()
    period = Period(today - timedelta(days=DAYS), today - timedelta(days=1))
    started = time.monotonic()
    n_cases, n_days = _write_year(data / "hub.db", villages, period.first, time.time())
    print(f"stats_year: {n_cases:,} cases and {n_days:,} village-days of {len(villages)} villages written in"
          f" {time.monotonic() - started:.1f} s")
    t = asyncio.run(_measure(data, period))
    raw = t["raw"]
    return [
        {"metric": "dashboard JSON, city, a year (median of 5)", "value": t["dashboard"], "unit": "s",
         "baseline": raw, "ratio": t["dashboard"] / raw},
        {"metric": "dashboard JSON, city, the last 182 days", "value": t["half"], "unit": "s", "baseline": raw,
         "ratio": t["half"] / raw},
        {"metric": "stats.xlsx, city, a year", "value": t["xlsx"], "unit": "s", "baseline": raw,
         "ratio": t["xlsx"] / raw},
        {"metric": "monthly report PDF, city, the last whole month", "value": t["report"], "unit": "s",
         "baseline": raw, "ratio": t["report"] / raw},
        {"metric": "GET /api/v1/stats, city, a year", "value": t["stats"], "unit": "s", "baseline": raw,
         "ratio": t["stats"] / raw},
        {"metric": "case counts from per-day totals vs raw rows", "value": t["totals"], "unit": "s",
         "baseline": raw, "ratio": t["totals"] / raw},
    ]

"""The SQL behind the cases' statistics (hub/stats_cases.py): per-day totals kept current by the database itself,
the few counts that depend on the time of asking, the hours to answer, and the recount from the raw rows.

A year of a city (some 200,000 cases) summed from the cases at each request took 1.8 s. So every count that a
case's own columns decide is kept per Asia/Shanghai day of receiving, village and unit in `case_day_totals`,
changed by triggers in the same transaction as the case (whichever code writes it: an action, a merge, a sweep),
and the figures add up those rows. Only what "now" decides (past a deadline, unsigned or unanswered; overdue now)
is counted from the cases at the request, and only over the cases never answered or still open: a partial index
holds just those. `case_counts_from_rows` is the same answer from the raw rows (the tests' and the benchmark's
reference).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from protocol.database import Database

from .case_models import OPEN_STATES, STATE_NAMES
from .stats_period import Period
from .store_usage import villages_in_scope_sql

SCORES = (1, 2, 3, 4, 5)
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATES)
# China has kept UTC+8 all year since 1991: a case's day is its received_at shifted by 8 hours.
_DAY = "date({r}.received_at + 28800, 'unixepoch')"
_SIGNED = "coalesce({r}.accepted_at, {r}.answered_at)"  # a village's own reply answers without a unit signing

# Counts a case's own columns decide, kept per (day, village, unit): `{r}` is the row (NEW, OLD or c).
SETTLED: dict[str, str] = {
    "total": "1 = 1",
    **{f"state_{state}": f"{{r}}.state = '{state}'" for state in STATE_NAMES},
    "signed_with_deadline": f"{{r}}.accept_by IS NOT NULL AND {_SIGNED} IS NOT NULL",
    "accepted_on_time": f"{_SIGNED} <= {{r}}.accept_by",
    "answered_with_deadline": "{r}.due_at IS NOT NULL AND {r}.answered_at IS NOT NULL",
    "answered_on_time": "{r}.answered_at <= {r}.due_at",
    "answered": "{r}.answered_at IS NOT NULL",
    **{f"score_{s}": f"{{r}}.rating = {s}" for s in SCORES},
}
# Counts the time of asking decides. Each implies the case is unsettled (below), so the partial index covers them.
_NOW = "(SELECT now FROM k)"  # an uncorrelated subquery SQLite evaluates once
_UNSETTLED = f"(c.answered_at IS NULL OR c.state IN ({_OPEN}))"
LIVE: dict[str, str] = {
    "unsigned_past_deadline": f"c.accept_by IS NOT NULL AND {_SIGNED.format(r='c')} IS NULL AND c.accept_by < {_NOW}",
    "unanswered_past_deadline": f"c.due_at IS NOT NULL AND c.answered_at IS NULL AND c.due_at < {_NOW}",
    "overdue": f"c.state IN ({_OPEN}) AND (c.overdue = 1 OR (c.state = 'assigned' AND c.accept_by < {_NOW})"
               f" OR c.due_at < {_NOW})",
}
# The figures' counts (docs/statistics.md), each from the kept and the live ones.
CASE_COUNTS = (*(name for name in SETTLED if not name.endswith("_with_deadline")), "acceptance_due", "answer_due",
               "overdue")


def _flag(condition: str, r: str) -> str:
    return f"CASE WHEN {condition.format(r=r)} THEN 1 ELSE 0 END"


_MONTH = "strftime('%Y-%m', {r}.received_at + 28800, 'unixepoch')"
# Each kept table: its period column and that column's value for a case. A year is read from the months (a few
# thousand rows) and only a partial month at either end from the days.
TOTALS_TABLES = {"case_day_totals": ("day", _DAY), "case_month_totals": ("month", _MONTH)}


def _totals_change(r: str, sign: str) -> str:
    """Upserts adding (+) or taking away (-) the row `r`'s counts in its day's and its month's totals."""
    columns = ", ".join(SETTLED)
    values = ", ".join(f"{sign}{_flag(cond, r)}" for cond in SETTLED.values())
    updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in SETTLED)
    return "\n    ".join(
        f"INSERT INTO {table} ({when}, village_id, unit, {columns})"
        f" VALUES ({value.format(r=r)}, coalesce({r}.village_id, ''), coalesce({r}.unit, ''), {values})"
        f" ON CONFLICT ({when}, village_id, unit) DO UPDATE SET {updates};"
        for table, (when, value) in TOTALS_TABLES.items())


def _totals_table(table: str, when: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {table} (
    {when} TEXT NOT NULL,
    village_id TEXT NOT NULL,
    unit TEXT NOT NULL,
    {", ".join(f"{name} INTEGER NOT NULL" for name in SETTLED)},
    PRIMARY KEY ({when}, village_id, unit)
) WITHOUT ROWID;"""


_WATCHED = "received_at, village_id, unit, state, accept_by, accepted_at, due_at, answered_at, rating"
CASE_STATS_SCHEMA = f"""
DROP INDEX IF EXISTS cases_received;
DROP INDEX IF EXISTS cases_received_figures;
-- The cases' kept counts per Asia/Shanghai day (and month) of receiving, village ('' for Open311) and unit ('' while
-- with a dispatcher); hub/store_stats_cases.py. Filled from the cases once by hub/schema_migrations.py.
{_totals_table("case_day_totals", "day")}
{_totals_table("case_month_totals", "month")}
CREATE TRIGGER IF NOT EXISTS case_totals_insert AFTER INSERT ON cases BEGIN
    {_totals_change("NEW", "+")}
END;
CREATE TRIGGER IF NOT EXISTS case_totals_update AFTER UPDATE OF {_WATCHED} ON cases BEGIN
    {_totals_change("OLD", "-")}
    {_totals_change("NEW", "+")}
END;
CREATE TRIGGER IF NOT EXISTS case_totals_delete AFTER DELETE ON cases BEGIN
    {_totals_change("OLD", "-")}
END;
-- The cases whose figures still depend on the time (never answered, or open); the answered cases' times, in the
-- order the medians group them (so no sort is needed).
CREATE INDEX IF NOT EXISTS cases_unsettled ON cases(received_at, village_id, unit, state, accept_by, accepted_at,
    due_at, overdue) WHERE {_UNSETTLED.replace("c.", "")};
DROP INDEX IF EXISTS cases_answer_hours;
CREATE INDEX IF NOT EXISTS cases_answer_times ON cases(village_id, unit, received_at, answered_at)
    WHERE answered_at IS NOT NULL;
"""
# Recounts the totals from the cases (hub/schema_migrations.py runs it once on a database made before them).
_SETTLED_SUMS = ", ".join(f"sum({_flag(cond, 'c')})" for cond in SETTLED.values())
REBUILD_CASE_TOTALS = [
    statement for table, (when, value) in TOTALS_TABLES.items() for statement in (
        f"DELETE FROM {table}",
        f"INSERT INTO {table} ({when}, village_id, unit, {', '.join(SETTLED)})"
        f" SELECT {value.format(r='c')}, coalesce(c.village_id, ''), coalesce(c.unit, ''), {_SETTLED_SUMS}"
        " FROM cases c GROUP BY 1, 2, 3")
]


def _whole_months(period: Period) -> tuple[str, str, list[str]]:
    """The period as its whole months (first and last 'YYYY-MM', an empty range when none) and the day ranges
    before and after them (first, last, first, last)."""
    first_whole = period.first if period.first.day == 1 else (period.first.replace(day=28) + timedelta(days=4)
                                                               ).replace(day=1)
    after_last = period.last + timedelta(days=1)
    end_whole = after_last if after_last.day == 1 else after_last.replace(day=1)  # exclusive
    if first_whole >= end_whole:
        return "1", "0", [period.first.isoformat(), period.last.isoformat(), "1", "0"]
    last_whole = end_whole - timedelta(days=1)
    return (first_whole.isoformat()[:7], last_whole.isoformat()[:7],
            [period.first.isoformat(), (first_whole - timedelta(days=1)).isoformat(), end_whole.isoformat(),
             period.last.isoformat()])


def cases_in_scope_sql(scope: str) -> tuple[str, list[str]]:
    """A condition on cases (or their totals) `c`: the cases a scope's figures count. A village's and a town's are
    the cases from its villages (where the resident lives); a unit's are those it holds; the city's are all, the
    ones filed through Open311 (no village) included."""
    kind, _, ident = scope.partition(":")
    if kind == "unit":
        return "c.unit = ?", [ident]
    if scope == "city":
        return "1 = 1", []
    condition, params = villages_in_scope_sql(scope)
    return f"c.village_id IN (SELECT v.id FROM villages v WHERE {condition})", params


def _received_in(scope: str, period: Period) -> tuple[str, list[Any]]:
    """A condition on `cases c`: in the scope's figures and received in the period."""
    condition, params = cases_in_scope_sql(scope)
    start, end = period.bounds()
    return f"c.received_at >= ? AND c.received_at < ? AND {condition}", [start, end, *params]


def _combined(row: dict[str, Any]) -> dict[str, Any]:
    """The figures' counts from the kept and the live ones of one group."""
    out = {name: row.get(name) or 0 for name in SETTLED if not name.endswith("_with_deadline")}
    out["acceptance_due"] = (row.get("signed_with_deadline") or 0) + (row.get("unsigned_past_deadline") or 0)
    out["answer_due"] = (row.get("answered_with_deadline") or 0) + (row.get("unanswered_past_deadline") or 0)
    out["overdue"] = row.get("overdue") or 0
    return out


_LIVE_SUMS = ", ".join(f"sum({_flag(cond, 'c')}) AS {name}" for name, cond in LIVE.items())
# How case_counts groups: the SQL of each key over cases `c` (the totals hold the same names as columns).
_GROUPS: dict[str, dict[str, str]] = {
    "place": {"village_id": "coalesce(c.village_id, '')", "unit": "coalesce(c.unit, '')"},
    "day": {"day": _DAY.format(r="c")},
    "scope": {"scope": "''"},
}


class CaseStatsReads:
    _db: Database

    async def _grouped(self, sql: str, by: str, params: list[Any]) -> list[dict[str, Any]]:
        """`sql` selects `{keys}` and its sums FROM `c` WHERE ... ; grouped by `by`, towns looked up per group."""
        keys = _GROUPS[by]
        rows = await self._db.fetchall(
            f"SELECT *, (SELECT town_id FROM villages WHERE id = g.{next(iter(keys))}) AS town_id FROM"
            f" ({sql} GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}) g",
            params,
        )
        return [dict(r) for r in rows]

    async def case_counts(self, scope: str, period: Period, now: float, by: str = "place") -> list[dict[str, Any]]:
        """The cases of `scope` received in `period`, as of `now`: each of CASE_COUNTS per village (None: filed
        through Open311) and unit (None: with a dispatcher) with the village's town, per day (by="day"), or in
        all (by="scope")."""
        condition, params = cases_in_scope_sql(scope)
        received, received_params = _received_in(scope, period)
        keys = _GROUPS[by]
        kept_keys = ", ".join(f"c.{k} AS {k}" if by != "scope" else f"'' AS {k}" for k in keys)
        columns = ", ".join(("village_id", "unit", *(["day"] if by == "day" else []), *SETTLED))
        if by == "day":
            kept_rows = f"SELECT {columns} FROM case_day_totals WHERE day BETWEEN ? AND ?"
            kept_params = [period.first.isoformat(), period.last.isoformat()]
        else:
            first_month, last_month, days = _whole_months(period)
            kept_rows = (f"SELECT {columns} FROM case_month_totals WHERE month BETWEEN ? AND ? UNION ALL"
                         f" SELECT {columns} FROM case_day_totals WHERE day BETWEEN ? AND ? OR day BETWEEN ? AND ?")
            kept_params = [first_month, last_month, *days]
        kept = await self._grouped(
            f"SELECT {kept_keys}, {', '.join(f'sum(c.{n}) AS {n}' for n in SETTLED)} FROM ({kept_rows}) c"
            f" WHERE {condition}",
            by, [*kept_params, *params],
        )
        live_keys = ", ".join(f"{sql} AS {k}" for k, sql in keys.items())
        live = await self._grouped(
            f"WITH k AS (SELECT ? AS now) SELECT {live_keys},"
            f" {_LIVE_SUMS} FROM cases c"
            f" WHERE {_UNSETTLED} AND {received}",
            by, [now, *received_params],
        )
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in [*kept, *live]:
            key = tuple(row[k] for k in keys)
            held = groups.setdefault(key, {k: row[k] for k in keys} | {"town_id": row["town_id"]})
            for name in (*SETTLED, *LIVE):
                held[name] = held.get(name, 0) + (row.get(name) or 0)
        # A group whose cases all moved elsewhere (another unit) keeps a row of zeros: it holds no cases.
        return [{**{k: held[k] or None for k in keys if k != "scope"}, "town_id": held["town_id"], **_combined(held)}
                for held in groups.values() if held["total"]]

    async def case_counts_from_rows(self, scope: str, period: Period, now: float) -> list[dict[str, Any]]:
        """`case_counts` from the cases themselves, every case read (the reference the kept totals must equal)."""
        received, params = _received_in(scope, period)
        sums = ", ".join(f"sum({_flag(cond, 'c')}) AS {name}" for name, cond in {**SETTLED, **LIVE}.items())
        rows = await self._db.fetchall(
            f"WITH k AS (SELECT ? AS now) SELECT c.village_id AS village_id, v.town_id AS town_id, c.unit AS unit,"
            f" {sums} FROM cases c NOT INDEXED LEFT JOIN villages v ON v.id = c.village_id"
            f" WHERE {received} GROUP BY c.village_id, c.unit",
            [now, *params],
        )
        return [{"village_id": r["village_id"], "unit": r["unit"], "town_id": r["town_id"], **_combined(dict(r))}
                for r in rows]

    async def seconds_to_answer(self, scope: str, period: Period) -> list[tuple[str | None, str | None, str | None,
                                                                                list[int]]]:
        """Per village and unit (with the village's town): the whole seconds from receiving to answering of each
        answered case received in `period`, unsorted. One text per group: a year of a city is some 180,000
        numbers, and reading them as rows took half a second."""
        received, params = _received_in(scope, period)
        # The village's town is looked up once per group, not once per case.
        rows = await self._db.fetchall(
            "SELECT (SELECT town_id FROM villages WHERE id = g.village_id), g.village_id, g.unit, g.seconds FROM"
            " (SELECT c.village_id AS village_id, c.unit AS unit,"
            "  group_concat(CAST(c.answered_at - c.received_at AS INTEGER)) AS seconds FROM cases c"
            f"  WHERE c.answered_at IS NOT NULL AND {received}"
            "  GROUP BY c.village_id, c.unit) g",
            params,
        )
        return [(r[0], r[1], r[2], [int(x) for x in r[3].split(",")]) for r in rows]

    async def overdue_cases(self, scope: str, period: Period, now: float, limit: int) -> list[dict[str, Any]]:
        """The cases counted in the `overdue` figure (received in `period`, overdue as of `now`), the oldest first:
        id, village and its name, town, unit and its name, state and the deadlines."""
        received, params = _received_in(scope, period)
        rows = await self._db.fetchall(
            "WITH k AS (SELECT ? AS now) SELECT c.id AS id, c.village_id AS village_id, v.name AS village_name,"
            " v.town_id AS town_id, c.unit AS unit, u.name AS unit_name, c.state AS state,"
            " c.received_at AS received_at, c.accept_by AS accept_by, c.due_at AS due_at"
            " FROM cases c LEFT JOIN villages v ON v.id = c.village_id LEFT JOIN units u ON u.id = c.unit"
            f" WHERE {_UNSETTLED} AND {received} AND {LIVE['overdue']} ORDER BY c.received_at LIMIT ?",
            [now, *params, limit],
        )
        return [dict(r) for r in rows]

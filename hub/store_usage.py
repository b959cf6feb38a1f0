"""The SQL of village usage: one row per village and day as the edge sent it, and each edge's online time per day
folded from the status history; reads sum them per village over a scope and a period.

Kept apart from store.py and store_tx.py so each file holds one idea; a PostgreSQL store would mirror this file.
"""

from __future__ import annotations

from typing import Any

from protocol.database import Database
from protocol.records import AREAS

from .store_tx_base import SqlTx

# The counts kept as columns (summed by SQL); the record as sent stays in `body` (with the views per notice).
USAGE_COUNTS = ("tvs_active", "households", "notice_views", "notice_viewers", "live_peak", "live_minutes",
                "recorded_peak", "recorded_minutes", "alerts_shown", "alerts_acknowledged", "ack_seconds",
                "checkins_registered", "checkins_done", *(f"opens_{area}" for area in AREAS))
_PEAKS = ("live_peak", "recorded_peak")  # a peak is the most on one day: its maximum, not its sum, is meaningful

USAGE_SCHEMA = f"""
-- Village usage (hub/usage.py): one final record per village and day, counts only.
CREATE TABLE IF NOT EXISTS usage_days (
    village_id TEXT NOT NULL REFERENCES villages(id),
    day TEXT NOT NULL,             -- Asia/Shanghai date
    {", ".join(f"{c} INTEGER NOT NULL" for c in USAGE_COUNTS)},
    body TEXT NOT NULL,            -- JSON of the record as sent
    received_at REAL NOT NULL,
    PRIMARY KEY (village_id, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_days_day ON usage_days(day);
-- The views of each notice per village and day, from the same records, so the most read notices are one query.
CREATE TABLE IF NOT EXISTS usage_notice_days (
    village_id TEXT NOT NULL,
    day TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    views INTEGER NOT NULL,
    PRIMARY KEY (village_id, day, notice_id)
) WITHOUT ROWID;
-- Each edge's pulled time per day (hub/online_share.py), folded from status_history before it is pruned.
CREATE TABLE IF NOT EXISTS online_days (
    village_id TEXT NOT NULL,
    day TEXT NOT NULL,
    online_s REAL NOT NULL,
    observed_s REAL NOT NULL,
    PRIMARY KEY (village_id, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS online_fold (
    village_id TEXT PRIMARY KEY,   -- '' holds the last status_history row folded; a village its last pull time
    last REAL NOT NULL
);
"""


def villages_in_scope_sql(scope: str) -> tuple[str, list[str]]:
    """A condition on `villages v` true for the villages `scope` covers (a unit covers none)."""
    kind, _, ident = scope.partition(":")
    if scope == "city":
        return "1 = 1", []
    if kind == "town":
        return "v.town_id = ?", [ident]
    if kind == "village":
        return "v.id = ?", [ident]
    return "0 = 1", []


class UsageReads:
    _db: Database

    async def usage_by_village(self, scope: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Per village in scope: its name and town, the days it reported, the sums of its counts (the most for
        peaks) and its online and observed seconds, over first_day..last_day inclusive."""
        condition, params = villages_in_scope_sql(scope)
        sums = ", ".join(f"{'max' if c in _PEAKS else 'sum'}(u.{c}) AS {c}" for c in USAGE_COUNTS)
        rows = await self._db.fetchall(
            f"WITH vs AS (SELECT v.id, v.name, v.town_id FROM villages v WHERE {condition})"
            f" SELECT vs.id AS village_id, vs.name AS name, vs.town_id AS town_id, t.name AS town_name,"
            f" u.days AS days, {', '.join(f'u.{c} AS {c}' for c in USAGE_COUNTS)},"
            f" o.online_s AS online_s, o.observed_s AS observed_s"
            f" FROM vs JOIN towns t ON t.id = vs.town_id"
            f" LEFT JOIN (SELECT village_id, count(*) AS days, {sums} FROM usage_days u"
            f"   WHERE village_id IN (SELECT id FROM vs) AND day BETWEEN ? AND ? GROUP BY village_id) u"
            f"   ON u.village_id = vs.id"
            f" LEFT JOIN (SELECT village_id, sum(online_s) AS online_s, sum(observed_s) AS observed_s FROM online_days"
            f"   WHERE village_id IN (SELECT id FROM vs) AND day BETWEEN ? AND ? GROUP BY village_id) o"
            f"   ON o.village_id = vs.id"
            f" ORDER BY vs.town_id, vs.id",
            [*params, first_day, last_day, first_day, last_day],
        )
        return [dict(r) for r in rows]


    async def most_viewed_notices(self, scope: str, first_day: str, last_day: str, limit: int) -> list[dict[str, Any]]:
        """The notices opened most in scope and period: id, title (the hub's notice, or the village's own as its
        box sent it), views, and in how many villages."""
        condition, params = villages_in_scope_sql(scope)
        rows = await self._db.fetchall(
            f"SELECT u.notice_id AS id, sum(u.views) AS views, count(DISTINCT u.village_id) AS villages,"
            f" coalesce((SELECT title FROM notices WHERE id = u.notice_id),"
            f"  (SELECT json_extract(body, '$.title') FROM edge_records"
            f"   WHERE kind = 'village_notice' AND id = u.notice_id LIMIT 1), '') AS title"
            f" FROM usage_notice_days u WHERE u.village_id IN (SELECT v.id FROM villages v WHERE {condition})"
            f" AND u.day BETWEEN ? AND ? GROUP BY u.notice_id ORDER BY views DESC, u.notice_id LIMIT ?",
            [*params, first_day, last_day, limit],
        )
        return [dict(r) for r in rows]

    async def usage_by_day(self, scope: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Per day of the period: the sums over the scope's villages of the counts the weekly trend shows."""
        condition, params = villages_in_scope_sql(scope)
        rows = await self._db.fetchall(
            "SELECT u.day AS day, sum(u.tvs_active) AS tvs_active, sum(u.households) AS households"
            f" FROM usage_days u JOIN villages v ON v.id = u.village_id WHERE u.day BETWEEN ? AND ? AND {condition}"
            " GROUP BY u.day",
            [first_day, last_day, *params],
        )
        return [dict(r) for r in rows]

    async def village_places(self, scope: str) -> list[dict[str, Any]]:
        """The scope's villages with their town and coordinates (None when the registry has none)."""
        condition, params = villages_in_scope_sql(scope)
        rows = await self._db.fetchall(
            "SELECT v.id AS id, v.name AS name, v.town_id AS town, t.name AS town_name, v.latitude AS latitude,"
            f" v.longitude AS longitude FROM villages v JOIN towns t ON t.id = v.town_id WHERE {condition}"
            " ORDER BY v.town_id, v.id",
            params,
        )
        return [dict(r) for r in rows]


class UsageTx(SqlTx):
    async def set_village_coordinates(self, village_id: str, latitude: float | None, longitude: float | None) -> None:
        """Where the village lies (WGS-84 degrees), for the dashboard's map; kept with the statistics that use it."""
        await self._exec("UPDATE villages SET latitude = ?, longitude = ? WHERE id = ?",
                         (latitude, longitude, village_id))

    async def insert_usage_day(self, village_id: str, day: str, counts: dict[str, int], body: str) -> bool:
        """Keep the day's record unless one is held already (a record is final once sent); True if new."""
        n = await self._exec(
            f"INSERT INTO usage_days (village_id, day, {', '.join(USAGE_COUNTS)}, body, received_at)"
            f" VALUES (?, ?, {', '.join('?' for _ in USAGE_COUNTS)}, ?, ?) ON CONFLICT (village_id, day) DO NOTHING",
            [village_id, day, *(counts[c] for c in USAGE_COUNTS), body, self.now],
        )
        return n > 0

    async def insert_notice_views(self, village_id: str, day: str, views: dict[str, int]) -> None:
        await self._conn.executemany(
            "INSERT OR IGNORE INTO usage_notice_days (village_id, day, notice_id, views) VALUES (?, ?, ?, ?)",
            [(village_id, day, notice_id, n) for notice_id, n in views.items()],
        )

    async def status_rows_after(self, after_n: int) -> list[tuple[int, str, float, bool]]:
        rows = await self._all(
            "SELECT n, village_id, at, ok FROM status_history WHERE n > ? ORDER BY n", (after_n,)
        )
        return [(r["n"], r["village_id"], r["at"], bool(r["ok"])) for r in rows]

    async def online_fold_marks(self) -> dict[str, float]:
        return {r["village_id"]: r["last"] for r in await self._all("SELECT village_id, last FROM online_fold")}

    async def set_online_fold_mark(self, key: str, last: float) -> None:
        await self._exec(
            "INSERT INTO online_fold (village_id, last) VALUES (?, ?)"
            " ON CONFLICT (village_id) DO UPDATE SET last = excluded.last",
            (key, last),
        )

    async def add_online_time(self, village_id: str, day: str, online_s: float, observed_s: float) -> None:
        await self._exec(
            "INSERT INTO online_days (village_id, day, online_s, observed_s) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (village_id, day) DO UPDATE SET online_s = online_s + excluded.online_s,"
            " observed_s = observed_s + excluded.observed_s",
            (village_id, day, online_s, observed_s),
        )

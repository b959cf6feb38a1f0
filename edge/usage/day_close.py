"""Closing finished days: each day with usage gets one `usage_day` record in the up feed, once, and is then final.

The record and the day's row in usage_sent commit in one transaction, so a crash, a restart or a second closer
cannot send a day twice, and a day the line was down for simply waits in the up feed like any other entry. The
day's device sightings are deleted in the same transaction: no device id outlives the day's record.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import Any

import aiosqlite

from edge.feeds.up_append import append_up_op
from edge.notices.alerts import alert_counts_between
from protocol import records
from protocol.database import Database
from protocol.usage_day import MAX_NOTICES, is_notice_id, record_id

from .days import day_bounds_utc, day_of

log = logging.getLogger(__name__)
KEEP_DAYS = 62


async def days_to_close(db: Database, now: float | None = None) -> list[str]:
    """Finished days (before today) that hold some usage and were not sent yet, oldest first."""
    today = day_of(time.time() if now is None else now)
    rows = await db.fetchall(
        "SELECT day FROM (SELECT day FROM usage_samples UNION SELECT day FROM usage_tallies"
        " UNION SELECT day FROM usage_devices) WHERE day < ? AND day NOT IN (SELECT day FROM usage_sent)"
        " ORDER BY day",
        (today,),
    )
    return [r["day"] for r in rows]


async def _fetch(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[aiosqlite.Row]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def _body(conn: aiosqlite.Connection, day: str, alerts: tuple[int, int, int]) -> dict[str, Any]:
    """The day's counts, read inside the closing transaction."""
    devices = {r[0]: r[1] for r in await _fetch(
        conn, "SELECT metric, COUNT(*) FROM usage_devices WHERE day = ? GROUP BY metric", (day,))}
    areas = {r[0]: r[1] for r in await _fetch(
        conn, "SELECT key, n FROM usage_tallies WHERE day = ? AND metric = 'area' ORDER BY key", (day,))}
    notices = await _fetch(
        conn, "SELECT key, n FROM usage_tallies WHERE day = ? AND metric = 'notice' ORDER BY n DESC, key", (day,))
    rows = await _fetch(conn, "SELECT * FROM usage_samples WHERE day = ?", (day,))
    sample = dict(rows[0]) if rows else {}
    shown, acked, ack_seconds = alerts
    return {
        "day": day,
        "tvs_active": devices.get("tv", 0),
        "households": sample.get("households", 0),
        "area_opens": {code: areas[code] for code in records.AREAS if code in areas},
        "notice_views": sum(r[1] for r in notices),
        "notice_viewers": devices.get("notice", 0),
        "notices": {r[0]: r[1] for r in notices[:MAX_NOTICES] if is_notice_id(r[0])},
        "live": {"peak": sample.get("live_peak", 0), "minutes": round(sample.get("live_viewer_s", 0) / 60)},
        "recorded": {"peak": sample.get("recorded_peak", 0),
                     "minutes": round(sample.get("recorded_viewer_s", 0) / 60)},
        "alerts": {"shown": shown, "acknowledged": acked, "ack_seconds": ack_seconds},
        "checkins": {"registered": sample.get("alone_registered", 0),
                     "checked_in": sample.get("alone_checked_in", 0)},
    }


async def close_day(db: Database, village_id: str, day: str) -> int | None:
    """Append the day's record to the up feed; its up seq, or None when the day had been sent already."""
    start, end = day_bounds_utc(day)
    alerts = await alert_counts_between(db, start, end)  # a finished day's alerts no longer change
    async with db.write() as conn:
        async with conn.execute("SELECT 1 FROM usage_sent WHERE day = ?", (day,)) as cur:
            if await cur.fetchone() is not None:
                return None
        body = await _body(conn, day, alerts)
        seq = await append_up_op(conn, village_id, records.put("usage_day", record_id(day), body))
        await conn.execute("INSERT INTO usage_sent (day, up_seq, sent_at) VALUES (?, ?, ?)", (day, seq, time.time()))
        await conn.execute("DELETE FROM usage_devices WHERE day = ?", (day,))
        # The hub holds the sent days; the box keeps a couple of months of its own counts, not years (and its
        # note of every day sent, a row a day, so no day can go up twice).
        forget = (date.fromisoformat(day) - timedelta(days=KEEP_DAYS)).isoformat()
        await conn.execute("DELETE FROM usage_tallies WHERE day < ?", (forget,))
        await conn.execute("DELETE FROM usage_samples WHERE day < ?", (forget,))
    log.info("usage of %s is in the up feed as entry %d", day, seq)
    return seq


async def close_finished_days(db: Database, village_id: str, now: float | None = None) -> list[int]:
    """Close every finished day not sent yet (after an outage of the box, several); their up seqs."""
    sent = []
    for day in await days_to_close(db, now):
        seq = await close_day(db, village_id, day)
        if seq is not None:
            sent.append(seq)
    return sent

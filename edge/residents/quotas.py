"""How many new submissions a device, and the whole village, may send: so one TV (or a host that invents TVs) cannot
fill the box's disk and the line to the city (issue 14).

Counted from the submissions table itself, inside the outbox's write transaction: the count survives a restart,
and submissions sent together are counted one after the other (the outbox commits them in one group, in order).
An identical replay is not a new submission and is never counted or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # how the outbox writes created_at (sorts as it reads)


@dataclass(frozen=True)
class SubmissionQuota:
    per_device_per_hour: int = 30
    per_village_per_day: int = 2000


@dataclass(frozen=True)
class OverQuota:
    which: str  # "device" or "village"
    limit: int
    retry_after_s: int


async def _nth_newest_since(conn: aiosqlite.Connection, where: str, params: tuple[str, ...], since: str,
                            n: int) -> str | None:
    """created_at of the n-th newest submission matching `where` since `since`, if there are that many."""
    async with conn.execute(
        f"SELECT created_at FROM submissions WHERE {where} created_at > ? ORDER BY created_at DESC LIMIT 1 OFFSET ?",
        (*params, since, n - 1),
    ) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


def _retry_after(oldest_counted: str, window: timedelta, now: datetime) -> int:
    """Whole seconds until the oldest submission that counts leaves the window (at least 1)."""
    leaves = datetime.strptime(oldest_counted, _TIME_FORMAT).replace(tzinfo=now.tzinfo) + window
    return max(1, int((leaves - now).total_seconds()) + 1)


async def over_quota(conn: aiosqlite.Connection, device_id: str, quota: SubmissionQuota,
                     now: datetime) -> OverQuota | None:
    """Would one more new submission from `device_id` go over a quota? (None: it may be taken.)"""
    hour_ago, day_ago = (now - HOUR).strftime(_TIME_FORMAT), (now - DAY).strftime(_TIME_FORMAT)
    oldest = await _nth_newest_since(conn, "device_id = ? AND", (device_id,), hour_ago, quota.per_device_per_hour)
    if oldest is not None:
        return OverQuota("device", quota.per_device_per_hour, _retry_after(oldest, HOUR, now))
    oldest = await _nth_newest_since(conn, "", (), day_ago, quota.per_village_per_day)
    if oldest is not None:
        return OverQuota("village", quota.per_village_per_day, _retry_after(oldest, DAY, now))
    return None

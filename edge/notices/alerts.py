"""Emergency alerts on open TV pages: the emergency notices a device has not acknowledged, pushed within seconds.

The board wakes waiting pages (server-sent events, long polls) when the applied down feed moves, and every
device's sight and acknowledgement of an alert is logged, so village staff can tell whose TV showed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from datetime import datetime
from typing import Any

from edge.feeds.positions import down_applied
from edge.notices.board import list_notices
from edge.residents.outbox import now_rfc3339
from protocol.database import Database

log = logging.getLogger(__name__)
# What moves when an alert may have come or gone: the down position, and the emergency notices (a replaced row
# gets a new rowid, so an edit shows too).
_EMERGENCIES = "SELECT COUNT(*), MAX(rowid) FROM notices WHERE priority = 'emergency'"


class AlertBoard:
    """A version number that changes whenever notices are applied, and a way to wait for that change.

    One cheap query per check, however many TVs wait, and no hook into the sync loop: the applied down-feed
    position, plus the emergency notices themselves, because those may be shown ahead of their turn
    (edge/feeds/down_apply.py apply_ahead) without the position moving.
    """

    def __init__(self, db: Database, check_s: float, max_streams: int) -> None:
        self.db = db
        self.check_s = check_s
        self.max_streams = max_streams
        self.version = 0
        self._seen: tuple[object, ...] | None = None
        self.streams = 0
        self.closed = False
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        """Watch the down position until cancelled; wake every waiter when it moves."""
        while not self.closed:
            try:
                row = await self.db.fetchone(_EMERGENCIES)
                seen: tuple[object, ...] | None = (await down_applied(self.db),
                                                   *(tuple(row) if row is not None else ()))
            except sqlite3.Error as exc:
                log.warning("alert board could not read the notices: %s", exc)
                seen = self._seen
            if seen != self._seen:
                async with self._changed:
                    self._seen = seen
                    self.version += 1
                    self._changed.notify_all()
            await asyncio.sleep(self.check_s)

    async def wait_change(self, since: int, timeout_s: float) -> int:
        """Return the version once it differs from `since`, or after `timeout_s`, or when the board closes."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version != since or self.closed), timeout_s
                )
        return self.version

    async def close(self) -> None:
        """Let every waiting page go (at shutdown), so the server does not wait for held connections."""
        async with self._changed:
            self.closed = True
            self._changed.notify_all()


async def pending_alerts(db: Database, device_id: str | None) -> list[dict[str, Any]]:
    """Current emergency notices this device has not acknowledged yet, newest first (all of them for None: an
    acknowledgement hides an alert only on the device that proved it sent it)."""
    acked = {
        r["notice_id"]
        for r in await db.fetchall(
            "SELECT notice_id FROM alert_log WHERE device_id = ? AND acked_at IS NOT NULL", (device_id,)
        )
    } if device_id is not None else set()
    return [
        {"id": n["id"], "title": n["title"], "body": n["body"], "area": n["area"], "published_at": n["published_at"],
         "attachments": n["attachments"]}
        for n in await list_notices(db)
        if n["priority"] == "emergency" and n["id"] not in acked
    ]


async def _is_emergency(db: Database, notice_id: str) -> bool:
    priority = await db.fetchvalue("SELECT priority FROM notices WHERE id = ?", (notice_id,))
    return priority == "emergency"


async def note_shown(db: Database, device_id: str, notice_id: str) -> bool:
    """Log that the alert is on this device's screen; False if there is no such emergency notice."""
    if not await _is_emergency(db, notice_id):
        return False
    async with db.write() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO alert_log (notice_id, device_id, shown_at) VALUES (?, ?, ?)",
            (notice_id, device_id, now_rfc3339()),
        )
    return True


async def acknowledge(db: Database, device_id: str, notice_id: str) -> bool:
    """Log that the resident pressed OK on the alert; the first acknowledgement's time is kept."""
    if not await _is_emergency(db, notice_id):
        return False
    now = now_rfc3339()
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO alert_log (notice_id, device_id, shown_at, acked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (notice_id, device_id) DO UPDATE SET acked_at = COALESCE(acked_at, excluded.acked_at)",
            (notice_id, device_id, now, now),
        )
    return True


async def alert_log(db: Database, notice_id: str) -> list[dict[str, Any]]:
    """Who saw an emergency notice and when (for the staff page and the tests)."""
    rows = await db.fetchall(
        "SELECT device_id, shown_at, acked_at FROM alert_log WHERE notice_id = ? ORDER BY shown_at", (notice_id,)
    )
    return [{"device_id": r["device_id"], "shown_at": r["shown_at"], "acked_at": r["acked_at"]} for r in rows]


async def alert_counts_between(db: Database, start: str, end: str) -> tuple[int, int, int]:
    """(alerts shown, acknowledged, total seconds from showing to acknowledging) with the event between `start` and
    `end` (RFC 3339 UTC text as the log writes it): counts only, for the day's usage record (edge/usage/)."""
    shown = await db.fetchvalue(
        "SELECT COUNT(*) FROM alert_log WHERE shown_at >= ? AND shown_at < ?", (start, end), default=0
    )
    acked = await db.fetchall(
        "SELECT shown_at, acked_at FROM alert_log WHERE acked_at >= ? AND acked_at < ?", (start, end)
    )
    seconds = sum(max(0.0, (_parse_utc(r["acked_at"]) - _parse_utc(r["shown_at"])).total_seconds()) for r in acked)
    return int(shown), len(acked), round(seconds)


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

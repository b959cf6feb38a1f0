"""Views counted in memory as pages are served, and written to the usage tables in one transaction now and then.

A page view must not cost an fsync on a small box; a crash loses at most one flush interval of counts, which a
daily statistic can bear. A day already sent up is final: a late flush for it is dropped (docs/statistics.md).
"""

from __future__ import annotations

import time

from aiohttp import web

from protocol.database import Database

from .days import day_of

MAX_PENDING_DEVICES = 50_000  # bounds memory if flushes fail for long; the oldest day's sightings are kept

_SENT = "NOT EXISTS (SELECT 1 FROM usage_sent WHERE day = ?)"


class UsageTally:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[tuple[str, str, str], int] = {}
        self._devices: set[tuple[str, str, str]] = set()

    def _device(self, day: str, metric: str, device_id: str) -> None:
        if device_id and len(self._devices) < MAX_PENDING_DEVICES:
            self._devices.add((day, metric, device_id))

    def page(self, device_id: str, area: str | None = None, now: float | None = None) -> None:
        """A TV page was opened (an area's screen when `area` is given); an unregistered page has no device."""
        day = day_of(time.time() if now is None else now)
        self._device(day, "tv", device_id)
        if area is not None:
            key = (day, "area", area)
            self._counts[key] = self._counts.get(key, 0) + 1

    def notice(self, device_id: str, notice_id: str, now: float | None = None) -> None:
        day = day_of(time.time() if now is None else now)
        self._device(day, "tv", device_id)
        self._device(day, "notice", device_id)
        key = (day, "notice", notice_id)
        self._counts[key] = self._counts.get(key, 0) + 1

    async def flush(self) -> None:
        """Write what was counted since the last flush; kept in memory for the next try if the write fails."""
        counts, devices = self._counts, self._devices
        if not counts and not devices:
            return
        self._counts, self._devices = {}, set()
        try:
            async with self.db.write() as conn:
                await conn.executemany(
                    f"INSERT INTO usage_tallies (day, metric, key, n) SELECT ?, ?, ?, ? WHERE {_SENT}"
                    " ON CONFLICT (day, metric, key) DO UPDATE SET n = n + excluded.n",
                    [(d, m, k, n, d) for (d, m, k), n in counts.items()],
                )
                await conn.executemany(
                    f"INSERT OR IGNORE INTO usage_devices (day, metric, device_id) SELECT ?, ?, ? WHERE {_SENT}",
                    [(d, m, dev, d) for (d, m, dev) in devices],
                )
        except BaseException:
            for key, n in counts.items():
                self._counts[key] = self._counts.get(key, 0) + n
            self._devices |= devices
            raise


USAGE_TALLY = web.AppKey("usage_tally", UsageTally)


def tally_of(app: web.Application) -> UsageTally | None:
    """The running edge's tally (None in an app built without the usage context)."""
    return app.get(USAGE_TALLY)

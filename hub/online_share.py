"""Each edge's online share: how much of the observed time its status pulls succeeded, folded per day.

The status history keeps only its newest rows per village (hub/store_tx.py), so its rows are folded into
online_days before they go: the time from one pull to the next counts as online when the later pull succeeded,
as observed either way; a gap longer than `max_gap_s` (the hub was not pulling) counts as neither.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from .stats_period import STATS_ZONE
from .store import HubStore

log = logging.getLogger(__name__)
FOLD_EVERY_S = 300.0  # well inside the ~50 minutes the kept history covers at the default pull interval


def split_by_day(start: float, end: float) -> list[tuple[str, float]]:
    """The seconds of [start, end) that fall on each Asia/Shanghai day."""
    out: list[tuple[str, float]] = []
    at = start
    while at < end:
        local = datetime.fromtimestamp(at, STATS_ZONE)
        midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).timestamp()
        stop = min(end, midnight)
        out.append((local.date().isoformat(), stop - at))
        at = stop
    return out


async def fold_status_history(store: HubStore, max_gap_s: float) -> int:
    """Fold the pulls recorded since the last fold into online_days; the number of pulls folded."""
    async with store.transaction() as tx:
        marks = await tx.online_fold_marks()
        rows = await tx.status_rows_after(int(marks.get("", 0)))
        if not rows:
            return 0
        for _, village_id, at, ok in rows:
            previous = marks.get(village_id)
            if previous is not None and 0 < at - previous <= max_gap_s:
                for day, seconds in split_by_day(previous, at):
                    await tx.add_online_time(village_id, day, seconds if ok else 0.0, seconds)
            marks[village_id] = at
            await tx.set_online_fold_mark(village_id, at)
        await tx.set_online_fold_mark("", rows[-1][0])
    return len(rows)


async def fold_now_and_then(store: HubStore, max_gap_s: float) -> None:
    """Fold every FOLD_EVERY_S for as long as the hub runs, so no pull is pruned before it is counted."""
    while True:
        try:
            await fold_status_history(store, max_gap_s)
        except Exception:
            log.exception("folding the status history into online time failed; trying again")
        await asyncio.sleep(FOLD_EVERY_S)

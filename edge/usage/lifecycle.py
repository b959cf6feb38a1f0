"""The usage task of a running edge: flush the page tally, sample viewers and check-ins, close finished days.

One task does all three in turn, so the closer always sees the tally flushed and a day is closed by one writer.
It wakes a second before midnight too, so the day's last sample of check-ins is taken at its very end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from ..runtime import RUNTIME, EdgeRuntime
from .day_close import close_finished_days
from .days import day_end_ts, day_of
from .sampler import SAMPLE_S, record_sample, take_sample
from .tally import USAGE_TALLY, UsageTally

log = logging.getLogger(__name__)
FLUSH_S = 10.0


async def usage_round(rt: EdgeRuntime, tally: UsageTally, sample: bool, now: float | None = None) -> list[int]:
    """One round: flush, sample when asked, then close finished days; the up seqs of days just closed."""
    at = time.time() if now is None else now
    await tally.flush()
    if sample:
        await record_sample(rt.db, await take_sample(rt.db, rt.streams, at))
    state = rt.holder.current
    if state is None:  # not provisioned: no feed to send to yet; the days wait
        return []
    return await close_finished_days(rt.db, state.village_id, at)


async def _run(rt: EdgeRuntime, tally: UsageTally) -> None:
    last_sample = float("-inf")
    try:
        while True:
            now = time.time()
            due = now - last_sample >= SAMPLE_S or day_end_ts(day_of(now)) - now <= 1.5
            try:
                await usage_round(rt, tally, due, now)
            except Exception:  # a bad round must not end counting for good
                log.exception("usage round failed; trying again")
            if due:
                last_sample = now
            until_midnight = day_end_ts(day_of(time.time())) - time.time()
            await asyncio.sleep(max(0.2, min(FLUSH_S, until_midnight - 1.0 if until_midnight > 1.5 else FLUSH_S)))
    finally:
        with contextlib.suppress(Exception):
            await tally.flush()  # counts of the last seconds, before the database closes


async def usage_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context, after the runtime's and the streams' (it reads their viewers)."""
    rt = app[RUNTIME]
    tally = UsageTally(rt.db)
    app[USAGE_TALLY] = tally
    task = asyncio.create_task(_run(rt, tally), name="usage")
    yield
    task.cancel()  # its last flush runs as it ends
    with contextlib.suppress(asyncio.CancelledError):
        await task

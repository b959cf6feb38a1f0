"""Every sample (about a minute): how many watch live and recorded video now, and who of the elderly living alone
has checked in today, written into the day's row of usage_samples.

Viewer minutes are the viewers seen at a sample times the time since the previous one (at most two sample
intervals, so hours the box was off are not credited); the peak is the most seen at one sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from edge.residents.households import list_households, missing_checkins
from edge.streams import StreamsService, get_meeting, viewer_counts
from protocol.database import Database

from .days import day_of

SAMPLE_S = 60.0


@dataclass(frozen=True)
class Sample:
    at: float
    live: int
    recorded: int
    households: int
    alone_registered: int
    alone_checked_in: int


async def viewers_now(db: Database, streams: StreamsService | None) -> tuple[int, int]:
    """(live, recorded) viewers now: a meeting that has ended is a recording; anything else is live."""
    live = recorded = 0
    for stream_id, n in (viewer_counts(streams) if streams is not None else {}).items():
        meeting = await get_meeting(db, stream_id) if stream_id.startswith("mtg-") else None
        if meeting is not None and meeting.state == "ended":
            recorded += n
        else:
            live += n
    return live, recorded


async def take_sample(db: Database, streams: StreamsService | None, now: float | None = None) -> Sample:
    at = time.time() if now is None else now
    live, recorded = await viewers_now(db, streams)
    households = await list_households(db)
    alone = sum(1 for h in households if h["elderly_alone"])
    missing = len(await missing_checkins(db, at))
    return Sample(at, live, recorded, len(households), alone, max(0, alone - missing))


async def record_sample(db: Database, sample: Sample) -> None:
    """Fold one sample into its day's row, unless that day was already sent (then it is final)."""
    day = day_of(sample.at)
    async with db.write() as conn:
        async with conn.execute("SELECT last_at FROM usage_samples WHERE day = ?", (day,)) as cur:
            row = await cur.fetchone()
        async with conn.execute("SELECT 1 FROM usage_sent WHERE day = ?", (day,)) as cur:
            if await cur.fetchone() is not None:
                return
        since = min(max(0.0, sample.at - row[0]), 2 * SAMPLE_S) if row is not None else 0.0
        await conn.execute(
            "INSERT INTO usage_samples (day, live_peak, live_viewer_s, recorded_peak, recorded_viewer_s, households,"
            " alone_registered, alone_checked_in, last_at) VALUES (?, ?, 0, ?, 0, ?, ?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET live_peak = max(live_peak, excluded.live_peak),"
            " live_viewer_s = live_viewer_s + ?, recorded_peak = max(recorded_peak, excluded.recorded_peak),"
            " recorded_viewer_s = recorded_viewer_s + ?, households = excluded.households,"
            " alone_registered = excluded.alone_registered, alone_checked_in = excluded.alone_checked_in,"
            " last_at = excluded.last_at",
            (day, sample.live, sample.recorded, sample.households, sample.alone_registered, sample.alone_checked_in,
             sample.at, sample.live * since, sample.recorded * since),
        )

"""What a stream id names (a meeting on this box, a broadcast from the hub, or nothing), remembered for a second.

Every viewer request needs the answer; remembering it spares two SQLite reads per request, and lets the lean
serving path (edge/serving) answer without an await.
"""

from __future__ import annotations

import asyncio
import time

from . import catalog, meetings
from .service import StreamsService

LOOKUP_TTL_S = 1.0
MAX_REMEMBERED = 10_000

Found = tuple[meetings.Meeting | None, bool]  # (the meeting, or None; whether it is a hub broadcast)
_refreshing: set[asyncio.Task[Found]] = set()  # held here so the loop does not drop them half way


def remembered(service: StreamsService, stream_id: str) -> Found | None:
    """The answer looked up within LOOKUP_TTL_S, or None. An answer just past its TTL is given once more for one
    TTL while one background lookup refreshes it: a thousand viewers asking in that moment must not each become a
    pair of SQLite reads (that pile-up, not the serving, is what made late segments)."""
    cached = service.lookups.get(stream_id)
    if cached is None:
        return None
    now = time.monotonic()
    found: Found = cached[1]
    if now - cached[0] < LOOKUP_TTL_S:
        return found
    if now - cached[0] < 2 * LOOKUP_TTL_S:
        service.lookups[stream_id] = (now, found)
        task = asyncio.get_running_loop().create_task(_look_up(service, stream_id))
        _refreshing.add(task)
        task.add_done_callback(_refreshing.discard)
        return found
    return None


async def lookup(service: StreamsService, stream_id: str) -> Found:
    found = remembered(service, stream_id)
    return found if found is not None else await _look_up(service, stream_id)


async def _look_up(service: StreamsService, stream_id: str) -> Found:
    meeting = await meetings.get_meeting(service.db, stream_id)
    found = (meeting, meeting is None and await catalog.is_broadcast(service.db, stream_id))
    if len(service.lookups) < MAX_REMEMBERED or stream_id in service.lookups:
        service.lookups[stream_id] = (time.monotonic(), found)
    return found

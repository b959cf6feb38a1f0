"""Live video and village meetings at the edge: relay from the hub, hall ingest, recordings, viewers and votes.

The staff page calls the functions re-exported here with `rt.streams` (an `StreamsService`); nothing else is public.
"""

from __future__ import annotations

from .errors import StreamRefused
from .meetings import (
    Meeting,
    get_meeting,
    ingest_url_and_key,
    list_meetings,
    schedule_meeting,
    start_meeting,
    stop_meeting,
)
from .service import StreamsService
from .votes import close_vote, current_question, open_vote, tally


def viewer_count(service: StreamsService, stream_id: str) -> int:
    """Devices watching the stream now (a segment request within the viewer window)."""
    return service.viewers.count(stream_id)


def viewer_counts(service: StreamsService) -> dict[str, int]:
    """Viewers now of every stream someone is watching."""
    return service.viewers.counts()


__all__ = [
    "Meeting",
    "StreamRefused",
    "StreamsService",
    "close_vote",
    "current_question",
    "get_meeting",
    "ingest_url_and_key",
    "list_meetings",
    "open_vote",
    "schedule_meeting",
    "start_meeting",
    "stop_meeting",
    "tally",
    "viewer_count",
    "viewer_counts",
]

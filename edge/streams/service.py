"""The streams area of one running edge: relays from the hub, live meetings, viewers and the recording uploader.

Built by the app's cleanup context (edge/streams/lifecycle.py); handlers and the staff page reach it as
`rt.streams`. Up-feed entries its meetings and votes append go up at once: the sync loop wakes on every commit
that adds one (protocol/database.py `on_insert`), so nothing here wakes it by hand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.box.state_holder import StateHolder
from edge.config import EdgeConfig
from edge.streams.viewers import ViewerTracker
from edge.sync.hub_client import HubClient
from edge.sync.hub_tls import HubSessions
from protocol.database import Database
from protocol.hls_playlist import MediaPlaylist
from protocol.hls_relay import HlsRelay

log = logging.getLogger(__name__)
LOOKUPS_KEPT_S = 10.0  # what a stream id names is forgotten this long after its last lookup (edge/streams/lookup.py)


@dataclass
class LivePlaylist:
    """The last playlist a meeting's encoder pushed that passed every check: what viewers get at once."""

    parsed: MediaPlaylist
    rendered: bytes


class StreamsService:
    def __init__(self, config: EdgeConfig, db: Database, holder: StateHolder,
                 hub_client: Callable[[], HubClient | None]) -> None:
        self.config = config
        self.db = db
        self.holder = holder
        # The sync's signed client to the hub (its session, its share of the line); None while there is none.
        self.hub_client = hub_client
        self.meetings_dir: Path = config.data_dir / "meetings"
        self.viewers = ViewerTracker(config.viewer_window_s)
        self.live: dict[str, LivePlaylist] = {}
        self.relays: dict[str, HlsRelay] = {}
        self.upload_wanted = asyncio.Event()
        self.sessions: HubSessions | None = None  # set by the cleanup context; TLS pinned as the sync's is
        self.ingest_locks: dict[str, asyncio.Lock] = {}
        # meeting id -> the encoder's segment name -> (this box's seq, served name, duration)
        self.ingest_maps: dict[str, dict[str, tuple[int, str, float]]] = {}
        # meeting id -> segment name -> done when that segment's push has ended (kept or refused)
        self.pushes_in_flight: dict[str, dict[str, asyncio.Future[None]]] = {}
        # stream id -> (when looked up, what it is): spares two SQLite reads on every viewer request
        self.lookups: dict[str, tuple[float, Any]] = {}

    def forget(self, stream_id: str) -> None:
        """A meeting or broadcast changed: the next request looks it up again."""
        self.lookups.pop(stream_id, None)

    @property
    def village_id(self) -> str:
        state = self.holder.current
        return state.village_id if state else ""

    def relay_for(self, stream_id: str) -> HlsRelay | None:
        """The relay of a hub stream, made on first use; None when this box has no hub to relay from."""
        state = self.holder.current
        if state is None or self.sessions is None:
            return None
        url = f"{state.hub_url}/streams/{stream_id}/index.m3u8"
        session = self.sessions.session_for(state)
        relay = self.relays.get(stream_id)
        if relay is None or relay.playlist_url != url or relay.session is not session:
            relay = HlsRelay(
                session, url,
                playlist_ttl_s=self.config.stream_playlist_ttl_s,
                window_s=self.config.stream_window_s,
                max_segment_bytes=self.config.ingest_segment_max_bytes,
                max_cache_bytes=self.config.stream_cache_max_bytes,
            )
            self.relays[stream_id] = relay
        return relay

    def sweep(self) -> None:
        """Drop segments past their window, and relays nobody asked for in a window (their memory with them)."""
        self.viewers.sweep()
        # Only lookups nobody renewed lately: clearing them all sent every viewer's next request to SQLite at once.
        now = time.monotonic()
        self.lookups = {sid: found for sid, found in self.lookups.items() if now - found[0] < LOOKUPS_KEPT_S}
        for sid, relay in list(self.relays.items()):
            relay.prune()
            if relay.clock() - relay.last_used > self.config.stream_window_s:
                del self.relays[sid]

    def ingest_lock(self, meeting_id: str) -> asyncio.Lock:
        return self.ingest_locks.setdefault(meeting_id, asyncio.Lock())

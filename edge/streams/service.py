"""The streams area of one running edge: relays from the hub, live meetings, viewers and the recording uploader.

Built by the app's cleanup context (`streams_ctx`); handlers and the staff page reach it as `rt.streams`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from edge.box.state_holder import StateHolder
from protocol.database import Database
from protocol.hls_playlist import MediaPlaylist
from protocol.hls_relay import HlsRelay

from ..config import EdgeConfig

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 10.0


@dataclass
class LivePlaylist:
    """The last playlist a meeting's encoder pushed that passed every check: what viewers get at once."""

    parsed: MediaPlaylist
    rendered: bytes


class StreamsService:
    def __init__(self, config: EdgeConfig, db: Database, holder: StateHolder, wake_sync: asyncio.Event) -> None:
        from .viewers import ViewerTracker

        self.config = config
        self.db = db
        self.holder = holder
        self.wake_sync = wake_sync  # set after an up-feed append so it goes up at once
        self.meetings_dir: Path = config.data_dir / "meetings"
        self.viewers = ViewerTracker(config.viewer_window_s)
        self.live: dict[str, LivePlaylist] = {}
        self.relays: dict[str, HlsRelay] = {}
        self.upload_wanted = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None
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
        if state is None or self.session is None:
            return None
        url = f"{state.hub_url}/streams/{stream_id}/index.m3u8"
        relay = self.relays.get(stream_id)
        if relay is None or relay.playlist_url != url:
            relay = HlsRelay(
                self.session, url,
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
        self.lookups.clear()
        for sid, relay in list(self.relays.items()):
            relay.prune()
            if relay.clock() - relay.last_used > self.config.stream_window_s:
                del self.relays[sid]

    def ingest_lock(self, meeting_id: str) -> asyncio.Lock:
        return self.ingest_locks.setdefault(meeting_id, asyncio.Lock())


async def _sweeper(service: StreamsService) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        service.sweep()


async def streams_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the relay session, the sweeper and the recording uploader live as long as the app."""
    from ..runtime import RUNTIME
    from .uploader import run_uploads

    rt = app[RUNTIME]
    service = StreamsService(rt.config, rt.db, rt.holder, rt.sync.submitted)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)
    # One connection pool to the hub for every relay: many viewers never mean many connections on the line.
    service.session = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=16))
    rt.streams = service
    tasks = [asyncio.create_task(_sweeper(service), name="streams-sweeper"),
             asyncio.create_task(run_uploads(service), name="recording-uploads")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await service.session.close()
        rt.streams = None

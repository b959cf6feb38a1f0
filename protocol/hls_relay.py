"""An HLS relay shared by the hub (city source → villages) and the edge (hub → set-top boxes).

Each segment crosses the hop once however many watch: concurrent misses wait on one upstream fetch (as nginx
`proxy_cache_lock` does), the playlist is re-read at most about once a second, and segments are kept for a window.

A relay asked to `follow()` (the edge's serving path does, while viewers watch) re-reads the playlist on a steady
beat of its own instead of when a viewer finds it expired, fetches each new segment as soon as the playlist names
it, and shows viewers the new playlist once those segments are here: no viewer request waits on upstream.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

from .errors import ProtocolError
from .hls_playlist import MAX_PLAYLIST_BYTES, MediaPlaylist, is_segment_name, parse_media_playlist

log = logging.getLogger(__name__)
BEAT_SLACK = 0.1
PLAYERS_START_BACK = 3  # segments from the live end where players start (hls.js, AVPlayer): fetched when following

_CONTENT_TYPES = {".ts": "video/mp2t", ".m4s": "video/iso.segment", ".mp4": "video/mp4", ".aac": "audio/aac"}
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


def content_type_for(name: str) -> str:
    for ext, ctype in _CONTENT_TYPES.items():
        if name.endswith(ext):
            return ctype
    return "application/octet-stream"


class RelayUnavailable(Exception):
    """Upstream cannot be reached or sent something unusable, and nothing recent enough is cached."""


class SegmentUnknown(Exception):
    """The name is not (or no longer) in the stream's playlist: a 404, never an upstream fetch."""


@dataclass
class _Cached:
    data: bytes
    at: float


class HlsRelay:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        playlist_url: str,
        *,
        playlist_ttl_s: float = 1.0,
        window_s: float = 120.0,
        max_segment_bytes: int = 64 * 1024**2,
        max_cache_bytes: int = 256 * 1024**2,
        stale_grace_s: float = 10.0,
        fetch_timeout_s: float = 20.0,
        follow_idle_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.playlist_url = playlist_url
        self.playlist_ttl_s = playlist_ttl_s
        self.window_s = window_s
        self.max_segment_bytes = max_segment_bytes
        self.max_cache_bytes = max_cache_bytes
        self.stale_grace_s = stale_grace_s
        self.timeout = aiohttp.ClientTimeout(total=fetch_timeout_s)
        self.follow_idle_s = follow_idle_s
        self.clock = clock
        self.upstream_fetches: Counter[str] = Counter()  # per file name, the playlist included
        self.last_used = clock()
        self._playlist: MediaPlaylist | None = None
        self._rendered = b""
        self._playlist_at = float("-inf")
        self._failed_at = float("-inf")
        self._failure = ""
        self._listed: dict[str, float] = {}  # segment name -> last time a playlist listed it
        self._segments: dict[str, _Cached] = {}
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._changed_at = float("-inf")  # when a re-read last brought a new segment

    # -- what viewers ask for ----------------------------------------------------------------------------------
    async def playlist(self) -> bytes:
        """The media playlist, re-read from upstream when older than the TTL; a brief outage serves the last one."""
        now = self.clock()
        self.last_used = now
        if now - self._playlist_at < self._fresh_for():
            return self._rendered
        try:
            if now - self._failed_at < self.playlist_ttl_s:
                # Upstream just failed: a hundred TVs reloading must not become a hundred attempts on the line.
                raise RelayUnavailable(self._failure)
            return await self._single_flight("index.m3u8", self._refresh)
        except RelayUnavailable as exc:
            self._note_failure(now, exc)
            if self._playlist is not None and now - self._playlist_at < self.stale_grace_s:
                return self._rendered
            raise

    async def segment(self, name: str) -> bytes:
        """A segment's bytes: from the cache, from the fetch already under way, or from one new upstream fetch."""
        now = self.clock()
        self.last_used = now
        if not is_segment_name(name):
            raise SegmentUnknown(name)
        cached = self._segments.get(name)
        if cached is not None:
            return cached.data
        if name not in self._listed:
            # A viewer may be a moment ahead of our copy of the playlist.
            if now - self._playlist_at >= self.playlist_ttl_s:
                try:
                    await self.playlist()
                except RelayUnavailable:
                    pass
            if name not in self._listed:
                raise SegmentUnknown(name)
        return await self._single_flight(name, lambda: self._fetch_segment(name))

    def fresh_playlist(self) -> bytes | None:
        """The playlist if it is within its TTL, with no I/O and no await (for a lean serving path); else None."""
        now = self.clock()
        if now - self._playlist_at >= self._fresh_for():
            return None
        self.last_used = now
        return self._rendered

    def cached_segment(self, name: str) -> bytes | None:
        """A segment already here, with no I/O and no await (for a lean serving path); None means ask segment()."""
        cached = self._segments.get(name)
        if cached is None:
            return None
        self.last_used = self.clock()
        return cached.data

    def follow(self) -> None:
        """Keep the playlist and its new segments here ahead of the viewers, until nobody has asked for
        `follow_idle_s`; calling it again while it follows changes nothing."""
        if self._follower is None or self._follower.done():
            self._follower = asyncio.get_running_loop().create_task(self._follow(), name=f"follow {self.playlist_url}")

    @property
    def following(self) -> bool:
        return self._follower is not None and not self._follower.done()

    def stop_following(self) -> None:
        if self._follower is not None:
            self._follower.cancel()

    @property
    def target_duration(self) -> int:
        return self._playlist.target_duration if self._playlist else 0

    def cached_names(self) -> list[str]:
        return list(self._segments)

    # -- upstream ----------------------------------------------------------------------------------------------
    def _fresh_for(self) -> float:
        # A followed playlist is renewed on the follower's beat; a viewer asking just before a late renewal gets
        # the current one rather than waiting on the line. Otherwise a tenth short of the TTL: a relay downstream
        # that follows this one asks once a TTL, and must find the copy expired however its requests' latency
        # jitters, or every other beat would bring it nothing new (two relays' equal TTLs beating against each
        # other: new segments in pairs, two seconds late).
        return 2 * self.playlist_ttl_s if self.following else (1 - BEAT_SLACK) * self.playlist_ttl_s

    def _note_failure(self, now: float, exc: RelayUnavailable) -> None:
        if now - self._failed_at >= self.playlist_ttl_s:
            self._failed_at, self._failure = self.clock(), str(exc)

    async def _follow(self) -> None:
        """Re-read the playlist once a TTL on a fixed beat (a beat that drifts would now and then bring two new
        segments at once), until nobody has asked for `follow_idle_s` or the session is closed."""
        next_at = self.clock()
        while not self.session.closed and self.clock() - self.last_used < self.follow_idle_s:
            began = self.clock()
            if began - self._failed_at >= self.playlist_ttl_s:
                try:
                    await self._single_flight("index.m3u8", self._refresh)
                except RelayUnavailable as exc:
                    self._note_failure(began, exc)
                except Exception:  # a bug, not the line: viewers fall back to re-reading on demand
                    log.exception("following %s stopped", self.playlist_url)
                    return
            now = self.clock()
            next_at += self.playlist_ttl_s
            if self._playlist is not None and began - self._changed_at >= 0.75 * self._playlist.target_duration:
                # Nothing new although a segment was due: this beat falls just before upstream's. A quarter TTL
                # later, each re-read lands after upstream's new segment rather than astride it.
                next_at += self.playlist_ttl_s / 4
            next_at = max(next_at, now)
            await asyncio.sleep(next_at - now)

    def _flight(self, key: str, start: Callable[[], Awaitable[bytes]]) -> asyncio.Future[bytes]:
        """The one upstream fetch of `key`, started now unless one is under way."""
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.ensure_future(start())
            self._inflight[key] = fut
            fut.add_done_callback(lambda f: self._done(key, f))
        return fut

    async def _single_flight(self, key: str, start: Callable[[], Awaitable[bytes]]) -> bytes:
        # Shielded: a viewer who gives up must not cancel the fetch the others are waiting on.
        return await asyncio.shield(self._flight(key, start))

    def _done(self, key: str, fut: asyncio.Future[bytes]) -> None:
        self._inflight.pop(key, None)
        if not fut.cancelled():
            fut.exception()  # retrieved here, so nobody is warned when every waiter left

    async def _get(self, url: str, limit: int, what: str) -> bytes:
        self.upstream_fetches[what] += 1
        try:
            async with self.session.get(url, timeout=self.timeout) as resp:
                if resp.status == 404:
                    raise SegmentUnknown(what)
                if resp.status != 200:
                    raise RelayUnavailable(f"upstream answered {resp.status} for {what}")
                if resp.content_length is not None and resp.content_length > limit:
                    raise RelayUnavailable(f"upstream {what} is {resp.content_length} bytes, over {limit}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(256 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise RelayUnavailable(f"upstream {what} is longer than {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RelayUnavailable(f"upstream {what} could not be fetched: {exc or type(exc).__name__}") from None

    async def _refresh(self) -> bytes:
        asked = self.clock()  # the copy's age counts from the request: what upstream had then
        try:
            data = await self._get(self.playlist_url, MAX_PLAYLIST_BYTES, "index.m3u8")
        except SegmentUnknown:
            raise RelayUnavailable("upstream has no such stream (404)") from None
        try:
            parsed = parse_media_playlist(data)
        except ProtocolError as exc:
            log.warning("refused playlist from %s: %s", self.playlist_url, exc.detail)
            raise RelayUnavailable(f"upstream playlist refused: {exc.detail}") from None
        now = self.clock()
        names = parsed.names()
        new = [name for name in names if name not in self._listed]
        for name in names:
            self._listed[name] = now
        if new:
            self._changed_at = now
            if self.following:
                await self._prefetch(new if self._playlist is not None else new[-PLAYERS_START_BACK:])
        self._playlist, self._rendered, self._playlist_at = parsed, parsed.render(), asked
        self.prune(now)
        return self._rendered

    async def _prefetch(self, names: list[str]) -> None:
        """Fetch new segments before viewers see their names; a slow one is left to finish on its own after a TTL
        (the viewers who ask for it meanwhile wait on that same fetch)."""
        fetches = [self._flight(name, functools.partial(self._fetch_segment, name))
                   for name in names if name not in self._segments]
        if fetches:
            await asyncio.wait(fetches, timeout=self.playlist_ttl_s)

    async def _fetch_segment(self, name: str) -> bytes:
        data = await self._get(urljoin(self.playlist_url, name), self.max_segment_bytes, name)
        self._segments[name] = _Cached(data, self.clock())
        return data

    def prune(self, now: float | None = None) -> None:
        """Forget segments that left the playlist more than a window ago, and the oldest when over the byte cap."""
        now = self.clock() if now is None else now
        current = set(self._playlist.names()) if self._playlist else set()
        for name, at in list(self._listed.items()):
            if name not in current and now - at > self.window_s:
                del self._listed[name]
        for name in [n for n in self._segments if n not in self._listed]:
            del self._segments[name]
        total = sum(len(c.data) for c in self._segments.values())
        for name, cached in sorted(self._segments.items(), key=lambda kv: kv[1].at):
            if total <= self.max_cache_bytes:
                break
            if name in current:
                continue
            total -= len(cached.data)
            del self._segments[name]

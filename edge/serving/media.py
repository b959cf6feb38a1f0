"""Which requests the front door answers itself: media on this box, or on its way from the hub.

`answer()` decides without an await: a present blob (`/content/`), a relay segment the relay holds, a relay
playlist within its TTL, a live meeting's playlist and segments. Each answer does what the aiohttp route does for
the same request (the content cache's LRU touch, the viewer count per device, the same headers). For a live stream
`warm()` first awaits what is missing (the stream lookup, the relay's one fetch of a new segment or playlist), so
the moment a segment is new does not send its first hundred viewers down the slower path; it also sets the relay
following, so that from then on new segments and playlists are here before viewers ask and nobody waits. A None sends the request
to the aiohttp route, which owns every error.
"""

from __future__ import annotations

import asyncio
import functools
import os
from urllib.parse import parse_qs

from aiohttp import web

from edge.content.cache import CONTENT_CACHE, IMMUTABLE_HEADERS
from edge.runtime import RUNTIME
from edge.streams import ingest, meetings
from edge.streams.lookup import Found, lookup, remembered
from edge.streams.names import PLAYLIST_NAME, is_segment_name, is_stream_id
from edge.streams.routes import LIVE_PLAYLIST_HEADERS, SEGMENT_HEADERS
from edge.streams.service import StreamsService
from edge.streams.viewers import SignsOfLife
from protocol.hls_relay import PLAYLIST_TYPE, HlsRelay, RelayUnavailable, SegmentUnknown, content_type_for
from protocol.records import is_sha256_hex

from .answer import Answer, Request, bytes_answer, shared_file_answer
from .file_ranges import file_answer
from .memory_files import MemoryFiles


def _lines(headers: dict[str, str]) -> str:
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items())


_BLOB = _lines(IMMUTABLE_HEADERS)
_SEGMENT = _lines(SEGMENT_HEADERS)
_LIVE_PLAYLIST = f"Content-Type: {PLAYLIST_TYPE}\r\n{_lines(LIVE_PLAYLIST_HEADERS)}"
@functools.lru_cache(maxsize=8)
def _segment_lines(content_type: str) -> str:
    return f"Content-Type: {content_type}\r\n{_SEGMENT}"


_BLOB_TYPE = "application/octet-stream"  # what aiohttp's FileResponse guesses for a name without an extension


MAX_PATHS_REMEMBERED = 4096  # a few streams times their window of segment names


def _stream_path(path: str) -> tuple[str, str] | None:
    stream_id, slash, name = path[len("/streams/"):].partition("/")
    if slash and is_stream_id(stream_id) and (name == PLAYLIST_NAME or is_segment_name(name)):
        return stream_id, name
    return None


class MediaAnswers:
    def __init__(self, app: web.Application, memory_files: MemoryFiles | None = None) -> None:
        self.app = app
        self.memory_files = memory_files or MemoryFiles()
        self._lookups: dict[str, asyncio.Future[Found]] = {}  # one SQLite lookup per stream, however many wait
        self._followed: set[HlsRelay] = set()  # relays kept ahead of the viewers, stopped with the front door
        self._signs_of_life: SignsOfLife | None = None
        # path -> (stream id, file name) of a well-formed stream path, or None: checked once, not per request
        self._stream_paths: dict[str, tuple[str, str] | None] = {}

    def answer(self, request: Request) -> Answer | None:
        path = request.path
        if path.startswith("/content/"):
            return self._blob(request, path[len("/content/"):])
        if path.startswith("/streams/"):
            if path in self._stream_paths:
                parts = self._stream_paths[path]
            else:
                parts = _stream_path(path)
                if len(self._stream_paths) >= MAX_PATHS_REMEMBERED:
                    self._stream_paths.clear()
                self._stream_paths[path] = parts
            if parts is not None:
                return self._stream(request, parts[0], parts[1])
        return None

    def may_warm(self, request: Request) -> bool:
        return request.path.startswith("/streams/") and self.app[RUNTIME].streams is not None

    async def warm(self, request: Request) -> bool:
        """Await what a live stream request needs; False when that fails (the route then says why)."""
        service = self.app[RUNTIME].streams
        stream_id, _, name = request.path[len("/streams/"):].partition("/")
        if service is None:
            return False
        try:
            meeting, broadcast = remembered(service, stream_id) or await self._lookup(service, stream_id)
            relay = service.relay_for(stream_id) if meeting is None and broadcast else None
            if relay is None:
                return meeting is not None
            self._follow(relay)
            if name == PLAYLIST_NAME:
                await relay.playlist()
            else:
                await relay.segment(name)
        except (RelayUnavailable, SegmentUnknown):
            return False
        return True

    def _follow(self, relay: HlsRelay) -> None:
        """From now on the relay re-reads the playlist on its own beat and fetches new segments before viewers ask
        (protocol/hls_relay.py), so the answers above find them here."""
        if not relay.following:
            self._followed = {r for r in self._followed if r.following}
            self._followed.add(relay)
            relay.follow()

    async def _lookup(self, service: StreamsService, stream_id: str) -> Found:
        pending = self._lookups.get(stream_id)
        if pending is None:
            pending = asyncio.ensure_future(lookup(service, stream_id))
            self._lookups[stream_id] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(stream_id, None))
        return await asyncio.shield(pending)

    def _blob(self, request: Request, sha256: str) -> Answer | None:
        if not is_sha256_hex(sha256):
            return None
        cache = self.app.get(CONTENT_CACHE)
        store = cache.store if cache is not None else self.app[RUNTIME].content
        try:
            fd = os.open(store.path_for(sha256), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None  # not here (or evicted): the route asks the blob loop for it and says so
        if cache is not None:
            cache.touch(sha256)
        return file_answer(request, fd, _BLOB_TYPE, _BLOB)

    def _stream(self, request: Request, stream_id: str, name: str) -> Answer | None:
        service = self.app[RUNTIME].streams
        if service is None:
            return None
        found = remembered(service, stream_id)
        if found is None:
            return None
        meeting, broadcast = found
        if meeting is not None:
            return self._meeting(request, service, meeting, name)
        if not broadcast:
            return None
        # Not relay_for(): it re-reads the provisioning state; warm() calls it, so a new hub URL still takes effect.
        relay = service.relays.get(stream_id)
        if relay is None:
            return None
        if name == PLAYLIST_NAME:
            playlist = relay.fresh_playlist()
            return None if playlist is None else bytes_answer(request, playlist, _LIVE_PLAYLIST)
        data = relay.cached_segment(name)
        if data is None:
            return None
        fd = self.memory_files.fd_for(stream_id, name, data)
        if fd is None:
            return None
        service.viewers.saw(stream_id, self._device(request))
        return shared_file_answer(request, fd, len(data), _segment_lines(content_type_for(name)))

    def _meeting(self, request: Request, service: StreamsService, meeting: meetings.Meeting,
                 name: str) -> Answer | None:
        if name == PLAYLIST_NAME:
            live = service.live.get(meeting.id)
            if meeting.state == "ended" or live is None:
                return None
            return bytes_answer(request, live.rendered, _LIVE_PLAYLIST)
        if name not in ingest.served_names(service, meeting.id):
            return None  # a recording's segment: the route asks the database
        try:
            fd = os.open(meetings.meeting_dir(service, meeting.id) / name, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        answer = file_answer(request, fd, content_type_for(name), _SEGMENT)
        if answer is not None:
            service.viewers.saw(meeting.id, self._device(request))
        return answer

    def _device(self, request: Request) -> str:
        device_id = request.headers.get("x-device-id")
        if not device_id and request.query:
            device_id = next(iter(parse_qs(request.query).get("device", [])), None)
        if self._signs_of_life is None:
            self._signs_of_life = SignsOfLife(self.app[RUNTIME].devices)
        return self._signs_of_life.device(device_id, request.remote)

    def close(self) -> None:
        for relay in self._followed:
            relay.stop_following()
        self._followed.clear()
        self.memory_files.close()

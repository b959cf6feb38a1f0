"""Live streams at the hub: registered by city staff, announced down to the villages in scope, relayed from source.

Each village edge fetches the playlist and segments from the hub, and the hub fetches each segment from the
source once however many villages watch (protocol/hls_relay.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from protocol.hls_relay import HlsRelay
from protocol.records import AREAS, delete, put

from .down_feed import DownFeed
from .errors import BadInput, Conflict, NotFound, Unprocessable
from .models import Stream, Village
from .notices import parse_scope, scope_covers
from .store import HubStore
from .store_tx import Tx
from .validate import choice_field, now, require_object, rfc3339, text_field

STREAM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_TITLE = 200
MAX_URL = 2000


def parse_source_url(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise BadInput("source_url must be the http(s) URL of an HLS media playlist", "bad_url")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"source_url {value[:100]!r} must be an http(s) URL of an HLS media playlist", "bad_url")
    return value


def parse_stream(raw: Any) -> Stream:
    body = require_object(raw)
    sid = body.get("id")
    if not isinstance(sid, str) or not STREAM_ID.match(sid):
        raise BadInput("id must be 1-64 letters, digits, '_' or '-', starting with a letter or digit", "bad_id")
    title = text_field(body, "title", MAX_TITLE)
    area = choice_field(body, "area", AREAS, default="live")
    if "scope" not in body:
        raise BadInput("the field 'scope' is missing", "missing_field")
    assert title is not None
    return Stream(sid, title, area, parse_scope(body["scope"]), parse_source_url(body.get("source_url")), now(), None)


def stream_op(stream: Stream) -> dict[str, Any]:
    return put("stream", stream.id, {"title": stream.title, "area": stream.area, "scope": stream.scope,
                                     "path": f"/streams/{stream.id}/index.m3u8",
                                     "started_at": rfc3339(stream.created_at)})


async def create_stream(store: HubStore, down: DownFeed, raw: Any) -> tuple[Stream, bool]:
    """Register a stream and announce it to every village in scope; the same body again changes nothing."""
    new = parse_stream(raw)
    async with store.transaction() as tx:
        old = await tx.get_stream(new.id)
        if old is not None:
            same = (old.title, old.area, old.scope, old.source_url) == (new.title, new.area, new.scope, new.source_url)
            if same and old.ended_at is None:
                return old, False
            raise Conflict(f"stream {new.id} already exists with other settings; use another id", "conflict")
        if not await tx.scope_target_exists(new.scope):
            raise Unprocessable(f"scope {new.scope} names no registered town or village", "unknown_scope")
        # In the caller's transaction, so a stream and its down-feed entries commit together.
        await tx.insert_stream(new)
        villages = await tx.villages_in_scope(new.scope)
        await down.append(tx, {v: [stream_op(new)] for v in villages})
    return new, True


async def backfill_streams(tx: Tx, down: DownFeed, village: Village) -> int:
    """Give a village that joined late every live stream whose scope covers it; returns how many."""
    ops = [stream_op(s) for s in await tx.live_streams() if scope_covers(s.scope, village)]
    if ops:
        await down.append(tx, {village.id: ops})
    return len(ops)


async def end_stream(store: HubStore, down: DownFeed, stream_id: str) -> Stream:
    """Stop relaying: the villages in scope get a delete and take the stream off their TVs."""
    async with store.transaction() as tx:
        stream = await tx.get_stream(stream_id)
        if stream is None:
            raise NotFound(f"no stream {stream_id}", "unknown_stream")
        if stream.ended_at is None:
            await tx.end_stream(stream_id)
            villages = await tx.villages_in_scope(stream.scope)
            await down.append(tx, {v: [delete("stream", stream_id)] for v in villages})
    ended = await store.get_stream(stream_id)
    assert ended is not None
    return ended


@dataclass
class HubRelays:
    """One relay per live stream, made on first request, sharing one connection pool to the sources."""

    session: aiohttp.ClientSession | None = None
    relays: dict[str, HlsRelay] = field(default_factory=dict)

    def relay_for(self, stream: Stream) -> HlsRelay:
        assert self.session is not None, "the relay session opens with the app"
        for sid, idle in list(self.relays.items()):
            if idle.clock() - idle.last_used > idle.window_s:
                del self.relays[sid]  # nobody watched for a window: let its segments go
        relay = self.relays.get(stream.id)
        if relay is None or relay.playlist_url != stream.source_url:
            relay = HlsRelay(self.session, stream.source_url)
            self.relays[stream.id] = relay
        return relay


RELAYS = web.AppKey("hub_relays", HubRelays)


async def relays_ctx(app: web.Application) -> AsyncIterator[None]:
    relays = app[RELAYS]
    relays.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30))
    try:
        yield
    finally:
        await relays.session.close()
        relays.relays.clear()

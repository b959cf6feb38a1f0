"""HTTP routes for live video at the hub: streams (staff), the relay (edges), recordings (edges) and vote tallies.

Handlers parse and answer; hub/streams.py, hub/recordings.py and hub/vote_tallies.py decide.
"""

from __future__ import annotations

import json
from functools import partial

from aiohttp import web

from protocol.hls_playlist import PLAYLIST_NAME, is_segment_name
from protocol.hls_relay import PLAYLIST_TYPE, RelayUnavailable, SegmentUnknown, content_type_for
from protocol.http_errors import ApiError, read_body, read_json

from . import streams
from .auth import authenticate_edge, require_admin
from .recordings import MAX_CHUNK, RecordingUploads
from .services import HUB
from .validate import int_param, require_village_id
from .vote_tallies import vote_tallies

MAX_JSON = 64 * 1024
routes = web.RouteTableDef()
RECORDINGS = web.AppKey("recordings", RecordingUploads)
_dumps = partial(json.dumps, ensure_ascii=False)


def setup(app: web.Application) -> None:
    """Routes, the relays and the recording store; the relays' connection pool opens and closes with the app."""
    hub = app[HUB]
    app[streams.RELAYS] = streams.HubRelays()
    app[RECORDINGS] = RecordingUploads(hub.config.data_dir / "recordings", hub.store, hub.blobs,
                                       hub.config.max_blob_bytes)
    app.add_routes(routes)
    app.cleanup_ctx.append(streams.relays_ctx)


@routes.post("/api/v1/streams")
async def create_stream(request: web.Request) -> web.Response:
    require_admin(request)
    hub = request.app[HUB]
    stream, created = await streams.create_stream(hub.store, hub.down, await read_json(request, MAX_JSON))
    return web.json_response(stream.to_json(), status=201 if created else 200, dumps=_dumps)


@routes.get("/api/v1/streams")
async def list_streams(request: web.Request) -> web.Response:
    require_admin(request)
    items = await request.app[HUB].store.list_streams()
    return web.json_response({"streams": [s.to_json() for s in items]}, dumps=_dumps)


@routes.delete("/api/v1/streams/{id}")
async def end_stream(request: web.Request) -> web.Response:
    require_admin(request)
    hub = request.app[HUB]
    stream = await streams.end_stream(hub.store, hub.down, request.match_info["id"])
    request.app[streams.RELAYS].relays.pop(stream.id, None)
    return web.json_response(stream.to_json(), dumps=_dumps)


@routes.get("/streams/{id}/{file}")
async def relay(request: web.Request) -> web.Response:
    """What village edges fetch: like /content, open to the line; each segment comes from the source once."""
    sid, name = request.match_info["id"], request.match_info["file"]
    if not streams.STREAM_ID.match(sid) or (name != PLAYLIST_NAME and not is_segment_name(name)):
        raise ApiError(400, "bad_name", "stream ids and segment names are plain names (letters, digits, '_-.')")
    stream = await request.app[HUB].store.get_stream(sid)
    if stream is None or stream.ended_at is not None:
        raise ApiError(404, "unknown_stream", f"no live stream {sid} at the hub")
    hls = request.app[streams.RELAYS].relay_for(stream)
    try:
        if name == PLAYLIST_NAME:
            return web.Response(body=await hls.playlist(), content_type=PLAYLIST_TYPE,
                                headers={"Cache-Control": "max-age=1"})
        return web.Response(body=await hls.segment(name), content_type=content_type_for(name),
                            headers={"Cache-Control": "public, max-age=3600"})
    except RelayUnavailable as exc:
        raise ApiError(502, "source_unavailable", f"the stream's source cannot be reached: {exc}") from None
    except SegmentUnknown:
        raise ApiError(404, "no_such_segment", f"{name} is not (or no longer) in stream {sid}") from None


@routes.get("/api/v1/recordings/{village}/{id}")
async def recording_status(request: web.Request) -> web.Response:
    village = await authenticate_edge(request, request.match_info["village"], b"")
    uploads = request.app[RECORDINGS]
    size, sha = uploads.parse(request.match_info["id"], request.query.get("size"), request.query.get("sha256"))
    return web.json_response(await uploads.status(village.id, request.match_info["id"], size, sha))


@routes.put("/api/v1/recordings/{village}/{id}")
async def recording_chunk(request: web.Request) -> web.Response:
    """One chunk at ?offset=N of a recording of ?size= bytes hashing to ?sha256=, signed like the sync routes."""
    chunk = await read_body(request, MAX_CHUNK)
    village = await authenticate_edge(request, request.match_info["village"], chunk)
    uploads = request.app[RECORDINGS]
    recording_id = request.match_info["id"]
    size, sha = uploads.parse(recording_id, request.query.get("size"), request.query.get("sha256"))
    offset = int_param(request.query.get("offset"), "offset", 0, 0, size)
    return web.json_response(await uploads.receive(village.id, recording_id, size, sha, offset, chunk))


@routes.get("/api/v1/votes/{village}/{question}")
async def tally(request: web.Request) -> web.Response:
    require_admin(request)
    village_id = require_village_id(request.match_info["village"], "village")
    result = await vote_tallies(request.app[HUB].store, village_id, request.match_info["question"][:100])
    return web.json_response(result, dumps=_dumps)

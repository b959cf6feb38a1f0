"""HTTP routes of the streams area: HLS for set-top boxes, the hall encoder's push, the list and the vote question.

Handlers parse and answer; the relay, meetings, ingest and votes modules decide.
"""

from __future__ import annotations

import json

from aiohttp import web

from protocol.hls_relay import PLAYLIST_TYPE, RelayUnavailable, SegmentUnknown, content_type_for

from ..errors import Refused
from ..runtime import RUNTIME
from . import catalog, ingest, meetings, votes
from .lookup import lookup
from .names import PLAYLIST_NAME, is_segment_name, is_stream_id
from .pushed_body import PushedBody
from .service import StreamsService
from .viewers import viewing_device

routes = web.RouteTableDef()
# Players reload a live playlist every target duration; one second of caching keeps every TV within a second.
LIVE_PLAYLIST_HEADERS = {"Cache-Control": "max-age=1"}
SEGMENT_HEADERS = {"Cache-Control": "public, max-age=3600"}


def _service(request: web.Request) -> StreamsService:
    service = request.app[RUNTIME].streams
    if service is None:
        raise Refused(503, "starting", "直播服务正在启动，请稍候。Streams are starting; try again in a moment.")
    return service


def _stream_id(request: web.Request) -> str:
    stream_id = request.match_info["stream_id"]
    if not is_stream_id(stream_id):
        raise Refused(400, "bad_stream_id", "stream id must be 1-64 letters, digits, '_' or '-'")
    return stream_id


def _device(request: web.Request) -> str:
    device_id = request.headers.get("X-Device-Id") or request.query.get("device")
    return viewing_device(request.app[RUNTIME].devices, device_id, request.remote)


@routes.get("/streams/{stream_id}/{file}")
async def watch(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    stream_id = _stream_id(request)
    name = request.match_info["file"]
    if name != PLAYLIST_NAME and not is_segment_name(name):
        raise Refused(400, "bad_name", "segment names are plain file names (letters, digits, '_', '-', '.')")
    try:
        meeting, broadcast = await lookup(service, stream_id)
        if meeting is not None:
            return await _watch_meeting(request, service, meeting, name)
        if not broadcast:
            raise Refused(404, "unknown_stream", f"没有这个直播 {stream_id}。No stream {stream_id} here.")
        relay = service.relay_for(stream_id)
        if relay is None:
            raise Refused(503, "no_hub", "这台设备还没有开通，无法转播。This box has no hub to relay from.")
        if name == PLAYLIST_NAME:
            return web.Response(body=await relay.playlist(), content_type=PLAYLIST_TYPE, headers=LIVE_PLAYLIST_HEADERS)
        data = await relay.segment(name)
        service.viewers.saw(stream_id, _device(request))
        return web.Response(body=data, content_type=content_type_for(name), headers=SEGMENT_HEADERS)
    except RelayUnavailable:
        raise Refused(503, "stream_unavailable", "直播信号暂时中断，请稍后再看。The broadcast cannot be reached"
                       " right now; try again in a minute.") from None
    except SegmentUnknown:
        raise Refused(404, "no_such_segment", f"{name} is not (or no longer) in this stream") from None


async def _watch_meeting(request: web.Request, service: StreamsService, meeting: meetings.Meeting,
                         name: str) -> web.StreamResponse:
    if name == PLAYLIST_NAME:
        if meeting.state == "ended":
            return web.Response(body=await meetings.vod_playlist(service.db, meeting.id),
                                content_type=PLAYLIST_TYPE, headers=SEGMENT_HEADERS)
        live = service.live.get(meeting.id)
        if live is None:
            raise Refused(404, "not_started", "会议还没有开始直播，请稍后再看。The meeting has not started yet.")
        return web.Response(body=live.rendered, content_type=PLAYLIST_TYPE, headers=LIVE_PLAYLIST_HEADERS)
    if name not in ingest.served_names(service, meeting.id) and not await meetings.is_meeting_segment(
        service.db, meeting.id, name
    ):
        raise Refused(404, "no_such_segment", f"{name} is not part of this meeting")
    service.viewers.saw(meeting.id, _device(request))
    path = meetings.meeting_dir(service, meeting.id) / name
    return web.FileResponse(path, headers={**SEGMENT_HEADERS, "Content-Type": content_type_for(name)})


@routes.put("/ingest/{stream_id}/{file}")
async def push(request: web.Request) -> web.Response:
    """The hall encoder's push. The key comes in the X-Ingest-Key header, or ?key= for encoders without headers."""
    body = PushedBody(request)  # first, before any await: an encoder may hang up as soon as it has sent it all
    service = _service(request)
    stream_id = _stream_id(request)
    name = request.match_info["file"]
    if name == PLAYLIST_NAME:
        return await _push_playlist(request, service, stream_id, body)
    with ingest.segment_push(service, stream_id, name):  # before any await: see segment_push
        meeting = await ingest.authorised_meeting(
            service, stream_id, request.headers.get(ingest.KEY_HEADER) or request.query.get("key")
        )
        ingest.check_file_name(name)
        await ingest.receive_segment(service, meeting, name, request.content_length, body.chunks())
    return web.Response(status=201)


async def _push_playlist(request: web.Request, service: StreamsService, stream_id: str,
                         body: PushedBody) -> web.Response:
    meeting = await ingest.authorised_meeting(
        service, stream_id, request.headers.get(ingest.KEY_HEADER) or request.query.get("key")
    )
    data = await body.read(ingest.MAX_PLAYLIST_BYTES)
    await ingest.receive_playlist(service, meeting, data)
    return web.Response(status=201)


@routes.delete("/ingest/{stream_id}/{file}")
async def push_delete(request: web.Request) -> web.Response:
    """Encoders with delete_segments ask to drop old segments; the edge keeps them for the recording."""
    service = _service(request)
    await ingest.authorised_meeting(service, _stream_id(request),
                                    request.headers.get(ingest.KEY_HEADER) or request.query.get("key"))
    return web.Response(status=204)


@routes.get("/api/v1/streams")
async def list_streams(request: web.Request) -> web.Response:
    service = _service(request)
    items = await catalog.list_streams(service.db, service.viewers.counts())
    return web.json_response({"streams": items}, dumps=_dumps)


@routes.get("/api/v1/streams/{stream_id}/vote")
async def vote_question(request: web.Request) -> web.Response:
    """What a TV watching the stream shows: the open question, or null. Polled every few seconds."""
    service = _service(request)
    question = await votes.current_question(service.db, _stream_id(request))
    return web.json_response({"question": question}, dumps=_dumps, headers={"Cache-Control": "no-store"})


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)

"""HLS pushed by a village-hall encoder (`ffmpeg -f hls -method PUT`): checked, kept, and served at once.

Segments land in the meeting's `incoming/` folder; a playlist that passes every check makes the segments it names
part of the meeting (renumbered by this box, so an encoder restart cannot overwrite the recording) and becomes
what viewers get. Any refusal leaves the live stream exactly as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

from protocol.errors import ProtocolError
from protocol.hls_playlist import MAX_PLAYLIST_BYTES, MediaPlaylist, Segment, parse_media_playlist

from .errors import StreamRefused
from .meetings import Meeting, meeting_dir, require_meeting
from .names import PLAYLIST_NAME, is_segment_name
from .service import LivePlaylist, StreamsService

KEY_HEADER = "X-Ingest-Key"
MEDIA_EXTENSIONS = (".ts", ".aac")
MAX_PENDING_SEGMENTS = 64  # pushed but not yet named by a playlist; an encoder is never that far ahead
_FLUSH = 1024 * 1024


PUSH_WAIT_S = 10.0


@contextlib.contextmanager
def segment_push(service: StreamsService, meeting_id: str, name: str) -> Iterator[None]:
    """Mark a segment push as under way. Enter it before the handler's first await: encoders send the segment,
    then the playlist on another connection at once, and the playlist must wait for the segment to land."""
    loop = asyncio.get_running_loop()
    pushes = service.pushes_in_flight.setdefault(meeting_id, {})
    done: asyncio.Future[None] = loop.create_future()
    pushes[name] = done
    try:
        yield
    finally:
        done.set_result(None)
        if pushes.get(name) is done:
            del pushes[name]
        if not pushes:
            service.pushes_in_flight.pop(meeting_id, None)


async def _landed(service: StreamsService, meeting_id: str, name: str) -> None:
    pending = service.pushes_in_flight.get(meeting_id, {}).get(name)
    if pending is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending), PUSH_WAIT_S)


async def authorised_meeting(service: StreamsService, meeting_id: str, presented: str | None) -> Meeting:
    """The meeting a push is for, if the key matches and the meeting still takes pushes."""
    meeting = await require_meeting(service.db, meeting_id)
    if not presented or not hmac.compare_digest(presented.encode(), meeting.ingest_key.encode()):
        raise StreamRefused(403, "wrong_key", "推流密钥不对，请在工作人员页面查看本次会议的密钥。"
                            f"The ingest key is wrong; send the meeting's key in the {KEY_HEADER} header.")
    if meeting.state == "ended":
        raise StreamRefused(409, "meeting_ended", "会议已经结束，不再接收推流。This meeting has ended; it takes no more pushes.")
    return meeting


def check_file_name(name: str) -> None:
    if name != PLAYLIST_NAME and (not is_segment_name(name) or not name.endswith(MEDIA_EXTENSIONS)):
        raise StreamRefused(400, "bad_name", "文件名不允许。Push index.m3u8 and segments named like index12.ts"
                            " (letters, digits, '_', '-', '.'; no '/' or '..').")


async def receive_segment(service: StreamsService, meeting: Meeting, name: str, content_length: int | None,
                          chunks: AsyncIterator[bytes]) -> int:
    """Stream one segment to disk; refused early by Content-Length, or as soon as it grows past the cap."""
    cap = service.config.ingest_segment_max_bytes
    if content_length is not None and content_length > cap:
        raise StreamRefused(413, "too_large", f"分片太大。A segment may be at most {cap} bytes.")
    incoming = meeting_dir(service, meeting.id) / "incoming"
    await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
    pending = await asyncio.to_thread(os.listdir, incoming)
    if len(pending) >= MAX_PENDING_SEGMENTS:
        raise StreamRefused(429, "too_many_pending", "推流的分片没有对应的播放列表。Too many segments without a"
                            " playlist naming them; push index.m3u8 after each segment.")
    tmp = incoming / f".{uuid.uuid4().hex}.part"
    # Opened on the loop, inside the try: a push cancelled while a worker thread opened the file would leave a
    # partial file nobody owns.
    handle: BinaryIO | None = None
    size = 0
    buffered: list[bytes] = []
    buffered_size = 0
    try:
        handle = open(tmp, "wb")  # noqa: ASYNC230 - creating an empty file does not wait on the disk
        async for chunk in chunks:
            size += len(chunk)
            if size > cap:
                raise StreamRefused(413, "too_large", f"分片太大。A segment may be at most {cap} bytes.")
            buffered.append(chunk)
            buffered_size += len(chunk)
            if buffered_size >= _FLUSH:
                await asyncio.to_thread(handle.write, b"".join(buffered))
                buffered, buffered_size = [], 0
        await asyncio.to_thread(_finish, handle, b"".join(buffered), tmp, incoming / name)
    except BaseException:
        if handle is not None:
            handle.close()
        tmp.unlink(missing_ok=True)
        raise
    return size


def _finish(handle: BinaryIO, tail: bytes, tmp: Path, final: Path) -> None:
    handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(tmp, final)


async def _ingest_map(service: StreamsService, meeting_id: str) -> dict[str, tuple[int, str, float]]:
    mapping = service.ingest_maps.get(meeting_id)
    if mapping is None:
        rows = await service.db.fetchall(
            "SELECT seq, name, source_name, duration FROM meeting_segments WHERE meeting_id = ? ORDER BY seq",
            (meeting_id,),
        )
        mapping = {r["source_name"]: (r["seq"], r["name"], r["duration"]) for r in rows}
        service.ingest_maps[meeting_id] = mapping
    return mapping


async def receive_playlist(service: StreamsService, meeting: Meeting, data: bytes) -> LivePlaylist:
    """Accept a pushed playlist if it is HLS and names only segments that arrived; it becomes the live one."""
    if len(data) > MAX_PLAYLIST_BYTES:
        raise StreamRefused(413, "too_large", f"播放列表太大。A playlist may be at most {MAX_PLAYLIST_BYTES} bytes.")
    try:
        parsed = parse_media_playlist(data)
    except ProtocolError as exc:
        raise StreamRefused(422, "not_hls", f"这不是可用的 HLS 播放列表。Not a usable HLS playlist: {exc.detail}") from None
    if parsed.init_name:
        raise StreamRefused(422, "not_hls", "请用 MPEG-TS 分片推流。Push MPEG-TS segments (-hls_segment_type mpegts).")
    folder = meeting_dir(service, meeting.id)
    async with service.ingest_lock(meeting.id):
        current = await require_meeting(service.db, meeting.id)
        if current.state == "ended":
            raise StreamRefused(409, "meeting_ended", "会议已经结束，不再接收推流。This meeting has ended.")
        mapping = await _ingest_map(service, meeting.id)
        fresh: list[Segment] = []
        for seg in parsed.segments:
            if seg.name not in mapping:
                await _landed(service, meeting.id, seg.name)
            if await asyncio.to_thread((folder / "incoming" / seg.name).is_file):
                fresh.append(seg)
            elif seg.name not in mapping:
                raise StreamRefused(422, "missing_segment", f"播放列表里的分片 {seg.name} 没有收到，请先推送分片。"
                                    f"The playlist names {seg.name}, which was never pushed; push segments first.")
        next_seq = max((v[0] for v in mapping.values()), default=0) + 1
        added: list[tuple[str, int, str, float, int]] = []
        for seg in fresh:
            ext = os.path.splitext(seg.name)[1]
            local = f"seg{next_seq:06d}{ext}"
            size = await asyncio.to_thread(_adopt, folder / "incoming" / seg.name, folder / local)
            added.append((seg.name, next_seq, local, seg.duration, size))
            next_seq += 1
        async with service.db.write() as conn:
            for source, seq, local, duration, size in added:
                await conn.execute(
                    "INSERT INTO meeting_segments (meeting_id, seq, name, source_name, duration, size)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (meeting.id, seq, local, source, duration, size),
                )
            await conn.execute(
                "UPDATE meetings SET state = 'live', started_at = COALESCE(started_at, ?) WHERE id = ?",
                (time.time(), meeting.id),
            )
        for source, seq, local, duration, _ in added:
            mapping[source] = (seq, local, duration)
        served = MediaPlaylist(
            target_duration=parsed.target_duration,
            media_sequence=mapping[parsed.segments[0].name][0] if parsed.segments else next_seq,
            segments=[Segment(mapping[s.name][1], s.duration, s.tags) for s in parsed.segments],
            ended=parsed.ended,
        )
        live = LivePlaylist(served, served.render())
        service.live[meeting.id] = live
        if current.state != "live":
            service.forget(meeting.id)
    return live


def _adopt(incoming: Path, final: Path) -> int:
    os.replace(incoming, final)
    return final.stat().st_size


def served_names(service: StreamsService, meeting_id: str) -> set[str]:
    mapping = service.ingest_maps.get(meeting_id) or {}
    return {v[1] for v in mapping.values()}

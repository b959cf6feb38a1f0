"""Village meetings: scheduled by staff, pushed by the hall's encoder, watched live, then kept as a recording.

A meeting needs no hub: everything here is local. When it stops, its segments become one recording file whose
hash goes up in a `recording` record; the uploader sends the bytes when the line allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.feeds.up_append import append_up_op
from protocol.database import Database
from protocol.hls_playlist import MediaPlaylist, Segment

from .errors import StreamRefused
from .service import StreamsService

MAX_TITLE = 200
MAX_AGENDA = 4000
RECORDING_NAME = "recording.ts"


@dataclass(frozen=True)
class Meeting:
    id: str
    title: str
    agenda: str
    ingest_key: str
    state: str  # scheduled | live | ended
    scheduled_at: float
    started_at: float | None
    ended_at: float | None
    recording_sha256: str | None
    recording_size: int | None
    duration_s: float | None
    uploaded_at: float | None

    def view(self) -> dict[str, Any]:
        """What staff and TVs may see; the ingest key is left out (ask `ingest_url_and_key`)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "ingest_key"}
        out["url"] = f"/streams/{self.id}/index.m3u8"
        return out


def _text(value: object, what: str, limit: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise StreamRefused(422, "bad_field", f"{what}需要填写，最多 {limit} 个字。{what} must be text of at most {limit} characters.")
    return value.strip()


def meeting_dir(service: StreamsService, meeting_id: str) -> Path:
    return service.meetings_dir / meeting_id


async def get_meeting(db: Database, meeting_id: str) -> Meeting | None:
    row = await db.fetchone("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
    return Meeting(**{k: row[k] for k in Meeting.__dataclass_fields__}) if row else None


async def require_meeting(db: Database, meeting_id: str) -> Meeting:
    meeting = await get_meeting(db, meeting_id)
    if meeting is None:
        raise StreamRefused(404, "unknown_meeting", f"没有这个会议 {meeting_id}。No meeting {meeting_id} on this box.")
    return meeting


async def list_meetings(db: Database) -> list[Meeting]:
    rows = await db.fetchall("SELECT * FROM meetings ORDER BY scheduled_at DESC LIMIT 1000")
    return [Meeting(**{k: r[k] for k in Meeting.__dataclass_fields__}) for r in rows]


async def schedule_meeting(service: StreamsService, title: str, agenda: str = "") -> Meeting:
    """A new meeting with its own stream id and ingest key; homes can watch as soon as the encoder pushes."""
    clean_title = _text(title, "会议名称 (title)", MAX_TITLE, True)
    clean_agenda = _text(agenda, "议程 (agenda)", MAX_AGENDA, False)
    meeting_id = f"mtg-{secrets.token_hex(6)}"
    key = secrets.token_urlsafe(24)
    async with service.db.write() as conn:
        await conn.execute(
            "INSERT INTO meetings (id, title, agenda, ingest_key, state, scheduled_at) VALUES (?, ?, ?, ?, 'scheduled', ?)",
            (meeting_id, clean_title, clean_agenda, key, time.time()),
        )
    service.forget(meeting_id)
    return await require_meeting(service.db, meeting_id)


async def ingest_url_and_key(service: StreamsService, meeting_id: str, base_url: str) -> tuple[str, str]:
    """Where the hall's encoder pushes (base_url is this box as the hall sees it) and the key it must send."""
    meeting = await require_meeting(service.db, meeting_id)
    return f"{base_url.rstrip('/')}/ingest/{meeting.id}/index.m3u8", meeting.ingest_key


async def start_meeting(service: StreamsService, meeting_id: str) -> Meeting:
    """Mark a meeting live (the encoder's first push does this too); starting a live one changes nothing."""
    async with service.db.write() as conn:
        async with conn.execute("SELECT state FROM meetings WHERE id = ?", (meeting_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StreamRefused(404, "unknown_meeting", f"没有这个会议 {meeting_id}。No meeting {meeting_id} on this box.")
        if row[0] == "ended":
            raise StreamRefused(409, "meeting_ended", "会议已经结束，请新建一个会议。This meeting has ended; schedule a new one.")
        await conn.execute(
            "UPDATE meetings SET state = 'live', started_at = COALESCE(started_at, ?) WHERE id = ?",
            (time.time(), meeting_id),
        )
    service.forget(meeting_id)
    return await require_meeting(service.db, meeting_id)


async def stop_meeting(service: StreamsService, meeting_id: str) -> Meeting:
    """End the meeting: no more pushes, the recording is made and offered on demand, and queued for the hub."""
    async with service.ingest_lock(meeting_id):
        meeting = await require_meeting(service.db, meeting_id)
        if meeting.state == "ended":
            return meeting
        folder = meeting_dir(service, meeting_id)
        rows = await service.db.fetchall(
            "SELECT name, duration FROM meeting_segments WHERE meeting_id = ? ORDER BY seq", (meeting_id,)
        )
        recording: tuple[str, int] | None = None
        if rows:
            recording = await asyncio.to_thread(_concatenate, folder, [r["name"] for r in rows])
        duration = round(sum(r["duration"] for r in rows), 3)
        now = time.time()
        async with service.db.write() as conn:
            await conn.execute(
                "UPDATE meetings SET state = 'ended', started_at = COALESCE(started_at, ?), ended_at = ?,"
                " recording_sha256 = ?, recording_size = ?, duration_s = ? WHERE id = ?",
                (now, now, recording[0] if recording else None, recording[1] if recording else None, duration,
                 meeting_id),
            )
            if recording and service.village_id:
                body = {"title": meeting.title, "agenda": meeting.agenda, "sha256": recording[0],
                        "size": recording[1], "duration_s": duration, "started_at": meeting.started_at or now,
                        "ended_at": now, "mime": "video/mp2t"}
                await append_up_op(conn, service.village_id, {
                    "op": "put", "kind": "recording", "id": meeting_id, "body": body, "blobs": [],
                })
        service.live.pop(meeting_id, None)
        service.forget(meeting_id)
        await asyncio.to_thread(shutil.rmtree, folder / "incoming", True)
    service.upload_wanted.set()
    return await require_meeting(service.db, meeting_id)


def _concatenate(folder: Path, names: list[str]) -> tuple[str, int]:
    """MPEG-TS segments joined in order are one playable file; returns its SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    tmp = folder / (RECORDING_NAME + ".tmp")
    with tmp.open("wb") as out:
        for name in names:
            with (folder / name).open("rb") as f:
                while chunk := f.read(1024 * 1024):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(folder / RECORDING_NAME)
    return digest.hexdigest(), size


async def vod_playlist(db: Database, meeting_id: str) -> bytes:
    """The whole meeting as an on-demand playlist, from the segments this box kept."""
    rows = await db.fetchall(
        "SELECT seq, name, duration FROM meeting_segments WHERE meeting_id = ? ORDER BY seq", (meeting_id,)
    )
    if not rows:
        raise StreamRefused(404, "no_recording", "这个会议没有录像。This meeting has no recording.")
    pl = MediaPlaylist(
        target_duration=max(1, math.ceil(max(r["duration"] for r in rows))),
        media_sequence=rows[0]["seq"],
        segments=[Segment(r["name"], r["duration"]) for r in rows],
        ended=True,
        vod=True,
    )
    return pl.render()


async def is_meeting_segment(db: Database, meeting_id: str, name: str) -> bool:
    row = await db.fetchone("SELECT 1 FROM meeting_segments WHERE meeting_id = ? AND name = ?", (meeting_id, name))
    return row is not None

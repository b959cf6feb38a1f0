"""Acceptance 2 and 3: a village meeting pushed by ffmpeg plays at once with the line down, is kept as a recording
that plays on demand, and reaches the hub whole (hash verified) once the line is up, despite cut uploads."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from edge.streams import ingest_url_and_key, schedule_meeting, stop_meeting, viewer_count
from edge.streams.meetings import RECORDING_NAME, get_meeting
from protocol.hls_playlist import parse_media_playlist

from .kit import Village, eventually, ffmpeg_push, viewers_session, village_with_hub, wait_process

PUSH_S = 6
SEGMENT_S = 1.0


async def watch_live(village: Village, meeting_id: str, until: asyncio.Event) -> dict[str, float]:
    """A viewer polling every 100 ms; returns when each segment (by media sequence) first showed in the playlist."""
    first_seen: dict[str, float] = {}
    url = f"{village.edge_url}/streams/{meeting_id}/index.m3u8"
    async with viewers_session() as session:
        for _ in range(600):
            if until.is_set():
                break
            async with session.get(url, headers={"X-Device-Id": "stb-viewer"}) as resp:
                if resp.status == 200:
                    playlist = parse_media_playlist(await resp.read())
                    for seg in playlist.segments:
                        if seg.name not in first_seen:
                            first_seen[seg.name] = time.monotonic()
                            async with session.get(f"{village.edge_url}/streams/{meeting_id}/{seg.name}",
                                                   headers={"X-Device-Id": "stb-viewer"}) as seg_resp:
                                assert seg_resp.status == 200
                                assert (await seg_resp.read())[:1] == b"G"  # an MPEG-TS sync byte
                else:
                    assert resp.status == 404 and (await resp.json())["error"] == "not_started"
            await asyncio.sleep(0.1)
    return first_seen


def ffprobe_duration(url: str) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", url],
                         capture_output=True, text=True, timeout=60, check=True)
    return float(json.loads(out.stdout)["format"]["duration"])


async def test_a_meeting_plays_within_two_segments_with_the_line_down_then_reaches_the_hub_whole(
        aiohttp_client: Any, tmp_path: Path) -> None:
    village = await village_with_hub(aiohttp_client, tmp_path, line_up=False,
                                     recording_chunk_bytes=16 * 1024, recording_upload_max_bytes_s=0)
    assert village.line is not None
    try:
        meeting = await schedule_meeting(village.streams, "村民代表大会", "一、村道修缮\n二、低保评议")
        url, key = await ingest_url_and_key(village.streams, meeting.id, village.edge_url)
        done = asyncio.Event()
        viewer = asyncio.create_task(watch_live(village, meeting.id, done))
        started = time.monotonic()
        encoder = ffmpeg_push(url, key, PUSH_S)
        await wait_process(encoder, PUSH_S + 30)
        await asyncio.sleep(0.3)
        assert viewer_count(village.streams, meeting.id) == 1
        done.set()
        first_seen = await viewer

        # Segment k (counted from 1) exists once the encoder has filmed k seconds; it is watchable in
        # the village no later than two segment durations after that (plus ffmpeg's start-up).
        names = sorted(first_seen)
        assert len(names) >= PUSH_S - 1
        lags = [first_seen[name] - started - (k + 1) * SEGMENT_S for k, name in enumerate(names)]
        assert max(lags) <= 2 * SEGMENT_S, f"segments reached viewers late: {lags}"

        # After the meeting: the recording plays on demand from the edge, the whole meeting long.
        ended = await stop_meeting(village.streams, meeting.id)
        assert ended.state == "ended" and ended.recording_sha256
        vod = await village.edge.get(f"/streams/{meeting.id}/index.m3u8")
        playlist = parse_media_playlist(await vod.read())
        assert playlist.ended and playlist.vod
        duration = await asyncio.to_thread(ffprobe_duration, f"{village.edge_url}/streams/{meeting.id}/index.m3u8")
        assert abs(duration - PUSH_S) < 1.5
        listing = await (await village.edge.get("/api/v1/streams")).json()
        entry = next(s for s in listing["streams"] if s["id"] == meeting.id)
        assert entry["recorded"] is True and entry["state"] == "ended"

        # The line comes back; four of the upload's requests are cut, before or after the hub saw them.
        recording = village.streams.meetings_dir / meeting.id / RECORDING_NAME
        size = recording.stat().st_size
        assert size > 8 * 16 * 1024, "enough chunks for the cuts to land inside the upload"
        village.line.cuts = {2: "before", 3: "after", 5: "before", 6: "after"}
        village.line.up = True

        async def uploaded() -> bool:
            m = await get_meeting(village.streams.db, meeting.id)
            return bool(m and m.uploaded_at)

        await eventually("the recording at the hub", uploaded, timeout_s=60)
        assert village.line.cut_done == 4
        resp = await village.hub.client.get(f"/content/{ended.recording_sha256}")
        assert resp.status == 200
        at_hub = await resp.read()
        assert hashlib.sha256(at_hub).hexdigest() == ended.recording_sha256 == hashlib.sha256(
            recording.read_bytes()).hexdigest()
        assert len(at_hub) == size

        async def record_at_hub() -> Any:
            db = village.hub.hub.store._db
            return await db.fetchone("SELECT body FROM edge_records WHERE kind = 'recording' AND id = ?", (meeting.id,))

        row = await eventually("the recording record at the hub", record_at_hub)
        assert json.loads(row["body"])["sha256"] == ended.recording_sha256
    finally:
        await village.line.stop()

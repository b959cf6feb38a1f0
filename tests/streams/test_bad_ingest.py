"""Acceptance 5: bad pushes to the ingest route are refused with a reason and the live meeting plays on untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from edge.streams import ingest_url_and_key, schedule_meeting, stop_meeting
from edge.streams.meetings import vod_playlist
from protocol.hls_playlist import parse_media_playlist

from .kit import Village, eventually, ffmpeg_push, raw_http, village_with_hub, wait_process

MB = 1024 * 1024


async def live_sequence(village: Village, meeting_id: str) -> int:
    resp = await village.edge.get(f"/streams/{meeting_id}/index.m3u8")
    if resp.status != 200:
        return -1
    playlist = parse_media_playlist(await resp.read())
    return playlist.media_sequence + len(playlist.segments)


async def test_wrong_key_dotdot_500_mb_and_not_hls_are_refused_while_the_meeting_plays_on(
        aiohttp_client: Any, tmp_path: Path) -> None:
    village = await village_with_hub(aiohttp_client, tmp_path, line_up=False)
    assert village.line is not None
    try:
        meeting = await schedule_meeting(village.streams, "村务公开会", "财务公开")
        url, key = await ingest_url_and_key(village.streams, meeting.id, village.edge_url)
        encoder = ffmpeg_push(url, key, 9)
        await eventually("the meeting to go live", lambda: live_sequence(village, meeting.id))
        before = await live_sequence(village, meeting.id)
        ingest = f"/ingest/{meeting.id}"
        good = {"X-Ingest-Key": key}

        # A wrong key, for a segment and for the playlist.
        for name in ("evil0.ts", "index.m3u8"):
            resp = await village.edge.put(f"{ingest}/{name}", data=b"#EXTM3U\n", headers={"X-Ingest-Key": "guess"})
            assert resp.status == 403 and (await resp.json())["error"] == "wrong_key"
        # Paths that climb out, sent byte for byte (a client library would tidy the `..` away).
        for path in (f"{ingest}/..%2F..%2Fedge.db", f"{ingest}/..", f"{ingest}/.hidden.ts", f"{ingest}/a..b.ts"):
            status, _ = await raw_http(village.edge_url, f"PUT {path} HTTP/1.1\nHost: edge\nX-Ingest-Key: {key}\n"
                                       "Content-Length: 4\nConnection: close\n", b"GGGG")
            assert status in (400, 404), path
        # 500 MB announced by Content-Length: refused before the body is read.
        status, body = await raw_http(village.edge_url, f"PUT {ingest}/big0.ts HTTP/1.1\nHost: edge\n"
                                      f"X-Ingest-Key: {key}\nContent-Length: {500 * MB}\n", b"G" * 1024)
        assert status == 413 and b"too_large" in body
        # 500 MB streamed without a length: refused once it passes the cap, long before the end.
        sent = 0

        async def endless() -> Any:
            nonlocal sent
            block = b"G" * MB
            while sent < 500 * MB:
                sent += MB
                yield block

        async with aiohttp.ClientSession() as session:
            try:
                async with session.put(village.edge_url + f"{ingest}/big1.ts", data=endless(), headers=good) as resp:
                    assert resp.status == 413
            except (aiohttp.ClientError, ConnectionError):
                pass  # the edge answered 413 and closed while we were still sending
        assert sent < 200 * MB
        # Playlists that are not HLS, or that name segments that were never pushed.
        for playlist in (b"<html>not a playlist</html>", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n../../edge.db\n",
                         b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nother.m3u8\n", b"\x00\xff" * 100,
                         b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nnever-pushed.ts\n"):
            resp = await village.edge.put(f"{ingest}/index.m3u8", data=playlist, headers=good)
            assert resp.status == 422, playlist
            assert (await resp.json())["error"] in ("not_hls", "missing_segment")

        # The live stream went on meanwhile, and still goes on.
        after = await live_sequence(village, meeting.id)
        assert after >= before
        await eventually("a new segment after the bad pushes", lambda: _advanced(village, meeting.id, after))
        await wait_process(encoder, 30)

        folder = village.streams.meetings_dir / meeting.id
        assert not list(folder.glob("big*")) and not list(folder.glob("evil*"))
        # A push still being written has its partial file; once every push has ended, none may be left.
        await eventually("refused pushes to leave no partial file behind", lambda: not list(folder.rglob("*.part")),
                         timeout_s=10)
        assert (tmp_path / "edge" / "edge.db").stat().st_size > 4
        await stop_meeting(village.streams, meeting.id)
        recorded = parse_media_playlist(await vod_playlist(village.streams.db, meeting.id))
        assert abs(sum(s.duration for s in recorded.segments) - 9) < 1.5, "every good segment, nothing else"
    finally:
        await village.line.stop()


async def _advanced(village: Village, meeting_id: str, than: int) -> bool:
    return await live_sequence(village, meeting_id) > than


async def test_a_push_to_an_ended_meeting_or_an_unknown_one_is_refused(aiohttp_client: Any, tmp_path: Path) -> None:
    village = await village_with_hub(aiohttp_client, tmp_path, line_up=False)
    assert village.line is not None
    try:
        meeting = await schedule_meeting(village.streams, "测试会议")
        _, key = await ingest_url_and_key(village.streams, meeting.id, village.edge_url)
        resp = await village.edge.put("/ingest/mtg-nothing/index0.ts", data=b"G", headers={"X-Ingest-Key": key})
        assert resp.status == 404 and (await resp.json())["error"] == "unknown_meeting"
        await stop_meeting(village.streams, meeting.id)
        resp = await village.edge.put(f"/ingest/{meeting.id}/index0.ts", data=b"G", headers={"X-Ingest-Key": key})
        assert resp.status == 409 and (await resp.json())["error"] == "meeting_ended"
    finally:
        await village.line.stop()

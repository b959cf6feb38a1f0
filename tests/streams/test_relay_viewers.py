"""Acceptance 1: a hundred homes watch one city broadcast; each segment crosses each hop exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from protocol.hls_playlist import parse_media_playlist

from .kit import Origin, announce_broadcast, ffmpeg_live_to_dir, viewers_session, village_with_hub

VIEWERS = 100
WATCH_S = 6.0


async def _viewer(session: aiohttp.ClientSession, base: str, device: str, got: dict[str, bytes],
                  stop_at: float) -> int:
    """A set-top box: reload the playlist every half second and fetch each new segment once."""
    seen: set[str] = set()
    headers = {"X-Device-Id": device}
    for _ in range(int(WATCH_S * 4) + 10):
        if time.monotonic() > stop_at:
            break
        async with session.get(f"{base}/index.m3u8", headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            playlist = parse_media_playlist(await resp.read())
        for seg in playlist.segments[-3:]:
            if seg.name in seen:
                continue
            async with session.get(f"{base}/{seg.name}", headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                data = await resp.read()
            got.setdefault(seg.name, data)
            assert got[seg.name] == data, "every viewer gets the same bytes"
            seen.add(seg.name)
        await asyncio.sleep(0.5)
    return len(seen)


async def test_a_hundred_viewers_cost_one_fetch_per_segment_at_the_hub_and_at_the_source(aiohttp_client: Any,
                                                                                          tmp_path: Path) -> None:
    source = ffmpeg_live_to_dir(tmp_path / "source", seconds=WATCH_S + 14)
    origin = await Origin(tmp_path / "source").start()
    village = await village_with_hub(aiohttp_client, tmp_path)
    assert village.line is not None
    try:
        await announce_broadcast(village, tmp_path / "source", origin)
        base = f"{village.edge_url}/streams/city-live"
        got: dict[str, bytes] = {}
        async with viewers_session() as session:
            stop_at = time.monotonic() + WATCH_S
            started = time.monotonic()
            fetched = await asyncio.gather(*(_viewer(session, base, f"stb-{i}", got, stop_at) for i in range(VIEWERS)))
            watched_s = time.monotonic() - started
        assert sum(fetched) >= VIEWERS * 3, "every viewer watched several segments"

        status = await (await village.edge.get("/api/v1/status?format=json")).json()
        assert status["streams"]["viewers"]["city-live"] == VIEWERS

        segments = sorted(got)
        assert len(segments) >= 4
        at_source = {name: origin.requests[name] for name in segments}
        assert set(at_source.values()) == {1}, f"the source saw a segment fetched more than once: {at_source}"
        over_line = Counter({name: village.line.requests[f"/streams/city-live/{name}"] for name in segments})
        assert set(over_line.values()) == {1}, f"a segment crossed the line more than once: {over_line}"
        for name in segments:
            assert got[name] == (tmp_path / "source" / name).read_bytes()
        # Playlists stay fresh for about a second: ~1 reload a second at each hop, not one per viewer poll.
        assert village.line.requests["/streams/city-live/index.m3u8"] <= watched_s + 4
        assert origin.requests["index.m3u8"] <= village.line.requests["/streams/city-live/index.m3u8"] + 2
    finally:
        source.kill()
        await asyncio.to_thread(source.wait, 10)
        await origin.stop()
        await village.line.stop()

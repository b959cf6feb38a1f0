"""The relay's promises in detail: strict playlists, no low-latency reload advertised, one fetch per segment,
a bounded window of segments, and names outside the playlist never fetched upstream."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
import pytest

from protocol.errors import ProtocolError
from protocol.hls_playlist import MAX_PLAYLIST_BYTES, parse_media_playlist
from protocol.hls_relay import HlsRelay, SegmentUnknown

from .kit import Origin

LIVE = b"""#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.33
#EXT-X-MEDIA-SEQUENCE:7
#EXTINF:1.000,
seg7.ts
#EXT-X-PART:DURATION=0.33,URI="seg8.part0.ts"
#EXTINF:1.000,
seg8.ts
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg9.part0.ts"
"""

BAD = [
    ("not a playlist", b"<html></html>"),
    ("master playlist", b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n"),
    ("climbing segment", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n../secret.ts\n"),
    ("absolute url", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://elsewhere/a.ts\n"),
    ("no duration", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\nseg1.ts\n"),
    ("no target duration", b"#EXTM3U\n#EXTINF:1,\nseg1.ts\n"),
    ("nan duration", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:nan,\nseg1.ts\n"),
    ("encrypted", b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:1,\ns.ts\n"),
    ("binary", b"#EXTM3U\n\x00\x01\x02"),
    ("too large", b"#EXTM3U\n" + b"#" * (MAX_PLAYLIST_BYTES + 1)),
]


@pytest.mark.parametrize("name,data", BAD, ids=[b[0] for b in BAD])
def test_playlists_that_are_not_plain_hls_media_playlists_are_refused_with_a_reason(name: str, data: bytes) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_media_playlist(data)
    assert refused.value.detail


def test_a_relayed_playlist_never_advertises_low_latency_blocking_reload() -> None:
    served = parse_media_playlist(LIVE).render().decode()
    assert "CAN-BLOCK-RELOAD" not in served and "EXT-X-PART" not in served and "PRELOAD-HINT" not in served
    again = parse_media_playlist(served.encode())
    assert [s.name for s in again.segments] == ["seg7.ts", "seg8.ts"] and again.media_sequence == 7


async def test_concurrent_misses_make_one_fetch_and_unlisted_names_make_none(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "index.m3u8").write_bytes(LIVE)
    (folder / "seg7.ts").write_bytes(b"G" * 100_000)
    (folder / "seg8.ts").write_bytes(b"G" * 50_000)
    (folder / "secret.ts").write_bytes(b"not for viewers")
    origin = await Origin(folder).start()
    try:
        async with aiohttp.ClientSession() as session:
            relay = HlsRelay(session, origin.url, playlist_ttl_s=60)
            results = await asyncio.gather(*(relay.segment("seg7.ts") for _ in range(200)))
            assert all(len(r) == 100_000 for r in results)
            assert origin.requests["seg7.ts"] == 1 and origin.requests["index.m3u8"] == 1
            for name in ("secret.ts", "../index.m3u8", "seg9.part0.ts"):
                with pytest.raises(SegmentUnknown):
                    await relay.segment(name)
            assert origin.requests["secret.ts"] == 0 and origin.requests["seg9.part0.ts"] == 0
    finally:
        await origin.stop()


async def test_segments_leave_the_cache_a_window_after_they_leave_the_playlist(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "index.m3u8").write_bytes(LIVE)
    for name in ("seg7.ts", "seg8.ts", "seg9.ts"):
        (folder / name).write_bytes(b"G" * 1000)
    origin = await Origin(folder).start()
    now = [1000.0]
    try:
        async with aiohttp.ClientSession() as session:
            relay = HlsRelay(session, origin.url, playlist_ttl_s=1.0, window_s=30.0, clock=lambda: now[0])
            await relay.segment("seg7.ts")
            await relay.segment("seg8.ts")
            (folder / "index.m3u8").write_bytes(LIVE.replace(b"seg7.ts", b"seg9.ts"))
            now[0] += 2
            await relay.playlist()
            assert sorted(relay.cached_names()) == ["seg7.ts", "seg8.ts"]  # still within the window
            now[0] += 31
            await relay.playlist()
            assert relay.cached_names() == ["seg8.ts"]
            with pytest.raises(SegmentUnknown):
                await relay.segment("seg7.ts")
    finally:
        await origin.stop()


async def test_the_hub_refuses_bad_stream_registrations_and_changes_nothing(aiohttp_client: Any, tmp_path: Path) -> None:
    from tests.hub.kit import start_hub

    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    await kit.add_village("v1", town="t1")
    good = {"id": "city-live", "title": "直播", "area": "live", "scope": "city",
            "source_url": "http://127.0.0.1:9/live/index.m3u8"}
    cases = [
        ({**good, "id": "../x"}, 400), ({**good, "source_url": "file:///etc/passwd"}, 400),
        ({**good, "scope": "town:nowhere"}, 422), ({**good, "area": "casino"}, 400), ({**good, "title": ""}, 400),
    ]
    for body, status in cases:
        resp = await kit.client.post("/api/v1/streams", json=body, headers=kit.admin)
        assert resp.status == status, body
        assert {"error", "detail"} <= set(await resp.json())
    assert (await kit.client.post("/api/v1/streams", json=good)).status == 401
    assert await kit.down_ops("v1") == []
    resp = await kit.client.post("/api/v1/streams", json=good, headers=kit.admin)
    assert resp.status == 201
    assert (await kit.client.post("/api/v1/streams", json=good, headers=kit.admin)).status == 200
    resp = await kit.client.post("/api/v1/streams", json={**good, "title": "另一个"}, headers=kit.admin)
    assert resp.status == 409
    ops = await kit.down_ops("v1")
    assert [(o["kind"], o["id"]) for o in ops] == [("stream", "city-live")]


async def test_a_dead_upstream_is_tried_about_once_a_second_however_many_reload(tmp_path: Path) -> None:
    from protocol.hls_relay import RelayUnavailable

    attempts = 0

    async def refuse(request: aiohttp.web.Request) -> aiohttp.web.Response:
        nonlocal attempts
        attempts += 1
        raise aiohttp.web.HTTPBadGateway()

    app = aiohttp.web.Application()
    app.router.add_get("/live/index.m3u8", refuse)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/live/index.m3u8"
    try:
        async with aiohttp.ClientSession() as session:
            relay = HlsRelay(session, url, playlist_ttl_s=1.0)
            for _ in range(100):
                with pytest.raises(RelayUnavailable):
                    await relay.playlist()
            assert attempts == 1
    finally:
        await runner.cleanup()


async def test_a_village_added_after_a_stream_started_is_told_about_it_and_not_about_ended_ones(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    from tests.hub.kit import start_hub

    kit = await start_hub(aiohttp_client, tmp_path / "hub")
    await kit.add_village("v1", town="t1")
    for sid in ("city-live", "old-live"):
        body = {"id": sid, "title": "直播", "area": "live", "scope": "city",
                "source_url": f"http://127.0.0.1:9/{sid}/index.m3u8"}
        assert (await kit.client.post("/api/v1/streams", json=body, headers=kit.admin)).status == 201
    assert (await kit.client.delete("/api/v1/streams/old-live", headers=kit.admin)).status == 200
    await kit.add_village("v9", town="t2")
    ops = await kit.down_ops("v9")
    assert [(o["kind"], o["op"], o["id"]) for o in ops] == [("stream", "put", "city-live")]

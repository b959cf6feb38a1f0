"""The edge's lean front door (edge/serving) answers media as the app does, and hands everything else to the app.

Each test runs a real edge app and the front door on a real port before it; answers through the front door are
compared with the app's own answers for the same request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from deploy.local_processes import free_port
from edge.app import create_app as create_edge_app
from edge.config import load_config
from edge.content.cache import CONTENT_CACHE
from edge.runtime import RUNTIME
from edge.serving.front_door import FrontDoor
from edge.serving.run import close_front_door, open_front_door, serve_until_stopped
from protocol.hls_playlist import parse_media_playlist
from protocol.hls_relay import HlsRelay

from .kit import (
    FAST_EDGE,
    Line,
    Origin,
    Village,
    announce_broadcast,
    eventually,
    ffmpeg_live_to_dir,
    raw_http,
    start_edge,
    viewers_session,
    village_with_hub,
)

# What a client sees of a file answer; Date and Server differ by design.
_COMPARED = ("Content-Type", "Content-Length", "Content-Range", "ETag", "Last-Modified", "Cache-Control",
             "Accept-Ranges")


@contextlib.asynccontextmanager
async def front_door(edge: TestClient) -> AsyncIterator[tuple[FrontDoor, str]]:
    """The front door on its own port, handing over to the test server's aiohttp protocol."""
    runner = edge.server.runner
    assert runner is not None and runner.server is not None
    door, server = await open_front_door(edge.app, runner.server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield door, f"http://127.0.0.1:{port}"
    finally:
        await close_front_door(door, server)


async def _get(session: aiohttp.ClientSession, method: str, url: str,
               headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    async with session.request(method, url, headers=headers or {}) as resp:
        return resp.status, await resp.read(), {k: resp.headers[k] for k in _COMPARED if k in resp.headers}


async def _put_blob(edge: TestClient, data: bytes) -> str:
    return await _put_blob_in(edge.app, data)


async def _put_blob_in(app: web.Application, data: bytes) -> str:
    """A blob as the blob loop leaves it: in the store's folder, and told to the content cache."""
    sha = hashlib.sha256(data).hexdigest()
    cache = app[CONTENT_CACHE]
    path = cache.store.path_for(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    await cache.stored(sha, len(data))
    return sha


async def test_blobs_through_the_front_door_answer_ranges_etags_and_head_exactly_as_the_app(aiohttp_client: Any,
                                                                                           tmp_path: Path) -> None:
    edge = await start_edge(aiohttp_client, tmp_path / "edge")
    data = os.urandom(300_000)
    sha = await _put_blob(edge, data)
    app_url = str(edge.make_url("")).rstrip("/")
    async with front_door(edge) as (door, url), aiohttp.ClientSession() as session:
        _, _, first = await _get(session, "GET", f"{url}/content/{sha}")
        etag = first["ETag"]
        cases: list[tuple[str, dict[str, str]]] = [
            ("GET", {}), ("HEAD", {}), ("GET", {"Range": "bytes=1000-1999"}), ("GET", {"Range": "bytes=-10"}),
            ("GET", {"Range": "bytes=299990-"}), ("GET", {"Range": "bytes=0-999999"}), ("HEAD", {"Range": "bytes=5-9"}),
            ("GET", {"If-None-Match": etag}), ("GET", {"If-None-Match": f'W/"other", {etag}'}),
            ("GET", {"If-None-Match": '"other"'}),
            # Rarer cases the front door leaves to the app, which answers them as before:
            ("GET", {"Range": "bytes=400000-"}), ("GET", {"Range": "bytes=0-9,20-29"}),
            ("GET", {"If-Range": etag, "Range": "bytes=0-9"}),
        ]
        for method, headers in cases:
            ours = await _get(session, method, f"{url}/content/{sha}", headers)
            apps = await _get(session, method, f"{app_url}/content/{sha}", headers)
            assert ours == apps, f"{method} {headers}: front door {ours[0]} {ours[2]}, app {apps[0]} {apps[2]}"
        status, body, headers = await _get(session, "GET", f"{url}/content/{sha}", {"Range": "bytes=1000-1999"})
        assert (status, body, headers["Content-Range"]) == (206, data[1000:2000], "bytes 1000-1999/300000")
        # A blob not here is the app's answer: it asks the blob loop and says the content is on its way.
        status, body, _ = await _get(session, "GET", f"{url}/content/{'0' * 64}")
        assert status == 404 and b"not_here_yet" in body
        assert door.answered >= 10 and door.handed_over >= 1


async def test_serving_a_blob_through_the_front_door_counts_as_its_use_for_the_cache(aiohttp_client: Any,
                                                                                     tmp_path: Path) -> None:
    edge = await start_edge(aiohttp_client, tmp_path / "edge")
    sha = await _put_blob(edge, b"x" * 5000)
    cache = edge.app[CONTENT_CACHE]
    db = edge.app[RUNTIME].db
    await cache.flush()
    before = (await db.fetchone("SELECT last_used FROM content_cache WHERE sha256 = ?", (sha,)))["last_used"]
    await asyncio.sleep(0.05)
    async with front_door(edge) as (_, url), aiohttp.ClientSession() as session:
        assert (await _get(session, "GET", f"{url}/content/{sha}", {"Range": "bytes=0-9"}))[0] == 206
    await cache.flush()
    after = (await db.fetchone("SELECT last_used FROM content_cache WHERE sha256 = ?", (sha,)))["last_used"]
    assert after > before


async def test_as_the_box_runs_it_requests_that_are_not_media_reach_the_app_on_the_same_port_and_then_close(
        tmp_path: Path) -> None:
    app = create_edge_app(load_config(tmp_path / "edge", **FAST_EDGE))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_until_stopped(app, "127.0.0.1", port, stop))
    try:
        await eventually("the edge to listen", lambda: _listening(port))
        sha = await _put_blob_in(app, b"abcdefghijklmn" * 50)
        status, body = await raw_http(url, "GET /api/v1/info HTTP/1.1\nHost: edge\n")
        assert status == 200 and b"node_id" in body
        status, body = await raw_http(url, f"POST /content/{sha} HTTP/1.1\nHost: edge\nContent-Length: 2\n", b"{}")
        assert status == 405, body
        status, _ = await raw_http(url, "GET /content/../../etc/passwd HTTP/1.1\nHost: edge\n")
        assert status in (400, 404)
        async with aiohttp.ClientSession() as session:
            # The app's answer closes its connection, so a TV's next media request starts at the front door.
            async with session.get(f"{url}/api/v1/info") as resp:
                assert resp.status == 200 and resp.headers["Connection"] == "close"
            status, body, _ = await _get(session, "GET", f"{url}/content/{sha}", {"Range": "bytes=0-6"})
            assert (status, body) == (206, b"abcdefg")
        # Two requests sent at once on one kept-alive connection: both answered, in order.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        one = f"GET /content/{sha} HTTP/1.1\r\nHost: edge\r\nRange: bytes=0-6\r\n\r\n"
        writer.write((one + one.replace("0-6", "7-13")).encode())
        data = await asyncio.wait_for(reader.read(65536), 10)
        while data.count(b"HTTP/1.1 206") < 2:
            data += await asyncio.wait_for(reader.read(65536), 10)
        assert b"\r\n\r\nabcdefgHTTP/1.1 206" in data and data.endswith(b"\r\n\r\nhijklmn")
        writer.close()
    finally:
        stop.set()
        door = await serving
    assert door.answered >= 3 and door.handed_over >= 4


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


@contextlib.asynccontextmanager
async def _city_broadcast(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[tuple[Village, Origin, Line]]:
    """A city broadcast live at its source (ffmpeg), relayed by the hub over a counting line to the village."""
    source = ffmpeg_live_to_dir(tmp_path / "source", seconds=20)
    origin = await Origin(tmp_path / "source").start()
    village = await village_with_hub(aiohttp_client, tmp_path)
    assert village.line is not None
    try:
        await announce_broadcast(village, tmp_path / "source", origin)
        yield village, origin, village.line
    finally:
        source.kill()
        await asyncio.to_thread(source.wait, 10)
        await origin.stop()
        await village.line.stop()


async def test_a_hundred_viewers_through_the_front_door_are_counted_and_cost_one_fetch_per_segment(
        aiohttp_client: Any, tmp_path: Path) -> None:
    async with _city_broadcast(aiohttp_client, tmp_path) as (village, origin, line):
        got: dict[str, bytes] = {}
        async with front_door(village.edge) as (door, url), viewers_session() as session:
            base = f"{url}/streams/city-live"

            async def viewer(device: str, stop_at: float) -> None:
                seen: set[str] = set()
                while time.monotonic() < stop_at:
                    status, body, _ = await _get(session, "GET", f"{base}/index.m3u8", {"X-Device-Id": device})
                    assert status == 200, body
                    for seg in parse_media_playlist(body).segments[-2:]:
                        if seg.name not in seen:
                            status, data, _ = await _get(session, "GET", f"{base}/{seg.name}", {"X-Device-Id": device})
                            assert status == 200
                            assert got.setdefault(seg.name, data) == data, "every viewer gets the same bytes"
                            seen.add(seg.name)
                    await asyncio.sleep(0.5)

            stop_at = time.monotonic() + 5
            await asyncio.gather(*(viewer(f"stb-{i}", stop_at) for i in range(100)))
            name = sorted(got)[-1]
            status, body, headers = await _get(session, "HEAD", f"{base}/{name}", {"X-Device-Id": "stb-0"})
            assert (status, body, headers["Content-Length"]) == (200, b"", str(len(got[name])))
            assert door.answered > 10 * door.handed_over, "the front door answered nearly every request itself"

        status_doc = await (await village.edge.get("/api/v1/status?format=json")).json()
        assert status_doc["streams"]["viewers"]["city-live"] == 100
        assert len(got) >= 3
        for name, data in got.items():
            assert data == (tmp_path / "source" / name).read_bytes()
            assert origin.requests[name] == 1, f"{name} was fetched more than once"
            assert line.requests[f"/streams/city-live/{name}"] == 1


async def test_a_watched_broadcasts_new_segments_are_at_the_edge_before_its_playlist_names_them(
        aiohttp_client: Any, tmp_path: Path) -> None:
    async with _city_broadcast(aiohttp_client, tmp_path) as (village, origin, line):
        async with front_door(village.edge) as (_, url), viewers_session() as session:
            base = f"{url}/streams/city-live"
            status, body, _ = await _get(session, "GET", f"{base}/index.m3u8", {"X-Device-Id": "stb-1"})
            assert status == 200, body
            seen = set(parse_media_playlist(body).names())
            reloads_before = line.requests["/streams/city-live/index.m3u8"]
            started = time.monotonic()
            new: list[str] = []
            while time.monotonic() - started < 5:
                status, body, _ = await _get(session, "GET", f"{base}/index.m3u8", {"X-Device-Id": "stb-1"})
                for name in parse_media_playlist(body).names():
                    if name not in seen:
                        # Named to viewers only once it is here: no viewer waits on the line for it.
                        assert line.requests[f"/streams/city-live/{name}"] == 1, f"{name} listed before it was here"
                        seen.add(name)
                        new.append(name)
                        status, data, _ = await _get(session, "GET", f"{base}/{name}", {"X-Device-Id": "stb-1"})
                        assert (status, data) == (200, (tmp_path / "source" / name).read_bytes())
                await asyncio.sleep(0.05)
            watched_s = time.monotonic() - started
            assert len(new) >= 3
            # Reloaded on the edge's own beat, about once a second, however often viewers ask.
            assert line.requests["/streams/city-live/index.m3u8"] - reloads_before <= watched_s + 2
            relay = village.streams.relays["city-live"]
            assert relay.following
        await eventually("the relay to stop following when the front door closes", lambda: not relay.following)
        for name in new:
            assert line.requests[f"/streams/city-live/{name}"] == 1 and origin.requests[name] == 1


async def test_a_followed_relay_stops_asking_upstream_soon_after_its_last_viewer(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "index.m3u8").write_bytes(b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg1.ts\n")
    (folder / "seg1.ts").write_bytes(b"G" * 1000)
    origin = await Origin(folder).start()
    try:
        async with aiohttp.ClientSession() as session:
            relay = HlsRelay(session, origin.url, playlist_ttl_s=0.2, follow_idle_s=1.0)
            relay.follow()
            assert (await relay.playlist()).endswith(b"seg1.ts\n")
            assert relay.cached_segment("seg1.ts") == b"G" * 1000, "fetched before anyone asked"
            await eventually("the relay to stop following", lambda: not relay.following, timeout_s=5)
            asked = origin.requests["index.m3u8"]
            assert 3 <= asked <= 1.0 / 0.2 + 3, "re-read on its beat while watched"
            await asyncio.sleep(0.5)
            assert origin.requests["index.m3u8"] == asked and origin.requests["seg1.ts"] == 1
    finally:
        await origin.stop()

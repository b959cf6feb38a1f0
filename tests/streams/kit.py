"""Test parts for live video: ffmpeg HLS, a counting origin, a counting (and cuttable) line, a hub and an edge.

All of it runs on 127.0.0.1 with real sockets: ffmpeg writes or pushes real HLS, the hub and the edge are the
real apps on real TCP servers, and the line between them is a small proxy that counts and can be cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from edge.app import create_app as create_edge_app
from edge.box.provisioned import apply_bundle
from edge.config import load_config
from edge.runtime import RUNTIME
from edge.streams import StreamsService
from provisioning.bundle import make_bundle
from tests.hub.kit import HubKit, start_hub

FFMPEG_INPUT = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-f", "lavfi", "-i", "sine=frequency=440",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-c:a", "aac", "-f", "hls", "-hls_time", "1"]
FAST_EDGE = {"mdns": False, "longpoll_s": 2.0, "backoff_base_s": 0.2, "backoff_max_s": 1.0, "push_interval_s": 0.3}


def ffmpeg_live_to_dir(out: Path, seconds: float, list_size: int = 6) -> subprocess.Popen[bytes]:
    """A live source: ffmpeg writes HLS in real time (-re) into `out`, as a city encoder would."""
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", *FFMPEG_INPUT, "-t", str(seconds),
         "-hls_list_size", str(list_size), str(out / "index.m3u8")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def ffmpeg_push(url: str, key: str, seconds: float) -> subprocess.Popen[bytes]:
    """The village hall's encoder: HLS pushed over HTTP PUT with the meeting's key, in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", *FFMPEG_INPUT, "-t", str(seconds),
         "-hls_list_size", "5", "-method", "PUT", "-headers", f"X-Ingest-Key: {key}", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


async def wait_process(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    for _ in range(int(timeout_s * 10)):
        if proc.poll() is not None:
            break
        await asyncio.sleep(0.1)
    else:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"ffmpeg did not finish within {timeout_s} s")
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else proc.returncode


async def eventually(what: str, check: Callable[[], Any], timeout_s: float = 20.0, every_s: float = 0.1) -> Any:
    """Await `check()` (sync or async) until truthy; bounded in time."""
    last: Any = None
    for _ in range(int(timeout_s / every_s)):
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


@dataclass
class Origin:
    """A plain HTTP server in front of a folder (a city's HLS source) that counts requests per file."""

    folder: Path
    requests: Counter[str] = field(default_factory=Counter)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> Origin:
        async def serve(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            self.requests[name] += 1
            path = self.folder / name
            if "/" in name or not path.is_file():
                raise web.HTTPNotFound()
            return web.Response(body=path.read_bytes())

        app = web.Application()
        app.router.add_get("/live/{name}", serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/live/index.m3u8"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


@dataclass
class Line:
    """The dedicated line as a proxy: counts requests per path, can be down, and can cut chosen uploads."""

    target: str
    up: bool = True
    requests: Counter[str] = field(default_factory=Counter)
    # n-th recording upload (PUT) -> "before" or "after": cut that request before or after the hub sees it
    cuts: dict[int, str] = field(default_factory=dict)
    cut_prefix: str = "/api/v1/recordings/"
    uploads: int = 0
    cut_done: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> Line:
        self._session = aiohttp.ClientSession(auto_decompress=False)

        async def forward(request: web.Request) -> web.StreamResponse:
            if not self.up:
                assert request.transport is not None
                request.transport.close()  # as a dead line: no answer at all
                raise web.HTTPServiceUnavailable()
            self.requests[request.path] += 1
            body = await request.read()
            cut = None
            if request.method == "PUT" and request.path.startswith(self.cut_prefix):
                self.uploads += 1
                cut = self.cuts.get(self.uploads)
            if cut == "before":
                self.cut_done += 1
                assert request.transport is not None
                request.transport.close()
                raise web.HTTPServiceUnavailable()
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() in ("x-villagenet-signature", "content-type", "x-device-id", "range")}
            assert self._session is not None
            async with self._session.request(request.method, self.target + request.path_qs, data=body,
                                             headers=headers) as resp:
                answer = await resp.read()
                out_headers = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "cache-control")}
            if cut == "after":
                self.cut_done += 1
                assert request.transport is not None
                request.transport.close()  # the hub has it; the edge never hears back
                raise web.HTTPServiceUnavailable()
            return web.Response(status=resp.status, body=answer, headers=out_headers)

        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{tail:.*}", forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()


@dataclass
class Village:
    hub: HubKit
    edge: TestClient
    line: Line | None

    @property
    def streams(self) -> StreamsService:
        service = self.edge.app[RUNTIME].streams
        assert service is not None
        return service

    @property
    def edge_url(self) -> str:
        return str(self.edge.make_url("")).rstrip("/")


class ProductionLikeServer(TestServer):
    """As `village-edge serve` runs it: a handler is not cancelled when the client hangs up (ffmpeg's PUTs do)."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        kwargs["handler_cancellation"] = False
        return web.AppRunner(self.app, **kwargs)


async def start_edge(aiohttp_client: Any, data_dir: Path, **overrides: Any) -> TestClient:
    config = load_config(data_dir, **{**FAST_EDGE, **overrides})
    client: TestClient = await aiohttp_client(ProductionLikeServer(create_edge_app(config), host="127.0.0.1"))
    return client


async def village_with_hub(aiohttp_client: Any, tmp_path: Path, line_up: bool = True,
                           **edge_overrides: Any) -> Village:
    """A hub, village v1 registered and provisioned, and its edge talking to the hub through a Line."""
    hub = await start_hub(aiohttp_client, tmp_path / "hub", status_interval_s=3600.0)
    await hub.add_village("v1", town="t1")
    token = await hub.token_for("v1")
    line = await Line(str(hub.client.make_url("")).rstrip("/"), up=line_up).start()
    keys = hub.hub.keys
    apply_bundle(tmp_path / "edge", make_bundle(keys.root, keys.trust_raw, "v1", "一村", "t1", line.url, token))
    edge = await start_edge(aiohttp_client, tmp_path / "edge", **edge_overrides)
    return Village(hub, edge, line)


async def announce_broadcast(village: Village, source: Path, origin: Origin, stream_id: str = "city-live") -> None:
    """The city announces a live source at the hub; returns once the village's edge lists the broadcast."""
    await eventually("ffmpeg's first playlist", lambda: (source / "index.m3u8").exists())
    resp = await village.hub.client.post("/api/v1/streams", headers=village.hub.admin, json={
        "id": stream_id, "title": "市政府新闻发布会", "area": "live", "scope": "city", "source_url": origin.url})
    assert resp.status == 201, await resp.text()

    async def listed() -> bool:
        resp = await village.edge.get("/api/v1/streams")
        return any(s["id"] == stream_id for s in (await resp.json())["streams"])

    await eventually("the broadcast to reach the edge's list", listed)


@contextlib.asynccontextmanager
async def viewers_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def raw_http(base_url: str, request_head: str, body: bytes = b"", read_limit: int = 64 * 1024) -> tuple[int, bytes]:
    """Send exactly these bytes (no client normalising `..` away) and return (status, body)."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request_head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(read_limit), 10)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

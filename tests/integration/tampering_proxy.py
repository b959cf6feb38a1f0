"""An HTTP proxy between edge and hub that can damage blob downloads, to show the edge refuses them.

It forwards every request to the real hub; while `corrupt_blobs` is above zero, it flips one byte in the body of
that many `/content/` answers. Runs its own event loop in a thread so process-based tests can use it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import aiohttp
from aiohttp import web

from deploy.local_processes import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class TamperingProxy:
    def __init__(self, target_port: int) -> None:
        self.target = f"http://127.0.0.1:{target_port}"
        self.port = free_port()
        self.corrupt_blobs = 0
        self.content_requests: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TamperingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            app = web.Application(client_max_size=16 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", lambda r: self._forward(r, session))
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

    async def _forward(self, request: web.Request, session: aiohttp.ClientSession) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with session.request(request.method, self.target + request.path_qs, headers=headers,
                                   data=body or None) as upstream:
            payload = await upstream.read()
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        if request.path.startswith("/content/") and request.method == "GET":
            self.content_requests[request.path.rsplit("/", 1)[-1]] += 1
            if self.corrupt_blobs > 0 and payload:
                self.corrupt_blobs -= 1
                damaged = bytearray(payload)
                damaged[len(damaged) // 2] ^= 0xFF
                payload = bytes(damaged)
        return web.Response(status=upstream.status, body=payload, headers=out_headers)

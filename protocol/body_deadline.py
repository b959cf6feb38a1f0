"""A request body must keep arriving: one that trickles (a byte a second) is cut off, for the edge and the hub alike.

aiohttp waits for a body as long as the client keeps the connection open, so one host could hold a handler, a
connection and its buffer for ever per request (issue 14, "one LAN host can exhaust the box"). Here a body gets
`grace_s` to start, then must average at least `min_bytes_per_s` since the request came in; below that the
connection is closed and the handler's read fails. Streaming uploads (HLS segments, recordings, blobs) keep going
at any real speed: only the average over the whole body counts, not a deadline for its size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CHECK_EVERY_S = 0.5


def too_slow(elapsed_s: float, received: int, grace_s: float, min_bytes_per_s: float) -> bool:
    """Has a body that has run `elapsed_s` with `received` bytes fallen behind the least rate after its grace?"""
    return elapsed_s > grace_s and received < min_bytes_per_s * (elapsed_s - grace_s)


async def _watch(request: web.Request, grace_s: float, min_bytes_per_s: float, cut: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    body = request.content
    while not body.is_eof():
        await asyncio.sleep(min(CHECK_EVERY_S, grace_s / 4))
        elapsed = loop.time() - started
        if not body.is_eof() and too_slow(elapsed, body.total_bytes, grace_s, min_bytes_per_s):
            log.warning("cut %s %s from %s: %d body bytes in %.1f s, under %g bytes/s after %g s",
                        request.method, request.path, request.remote, body.total_bytes, elapsed, min_bytes_per_s,
                        grace_s)
            cut.set()
            if request.transport is not None:
                request.transport.close()
            return


def body_deadline(grace_s: float, min_bytes_per_s: float) -> Middleware:
    """The middleware; put it first, so what a cut connection makes the handler raise is answered here."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():
            return await handler(request)
        cut = asyncio.Event()
        watcher = asyncio.create_task(_watch(request, grace_s, min_bytes_per_s, cut), name="body-deadline")
        try:
            return await handler(request)
        except Exception:
            if not cut.is_set():
                raise
            # Nobody is left to answer: the connection is closed. Whatever the read raised is this cut, not a bug.
            return web.Response(status=408, text="the request body came too slowly")
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    return middleware

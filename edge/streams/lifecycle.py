"""The streams area's lifetime inside the edge app: built after the runtime, its background tasks stopped with it.

Kept apart from edge/streams/service.py so the service never imports the runtime that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from edge.runtime import RUNTIME
from edge.streams.service import StreamsService
from edge.streams.uploader import run_uploads
from edge.sync.hub_tls import HubSessions

SWEEP_EVERY_S = 10.0


async def _sweeper(service: StreamsService) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        service.sweep()


async def streams_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the relay session, the sweeper and the recording uploader live as long as the app."""
    rt = app[RUNTIME]
    service = StreamsService(rt.config, rt.db, rt.holder, rt.sync.hub_client)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)
    # One connection pool to the hub for every relay: many viewers never mean many connections on the line.
    service.sessions = HubSessions(timeout, limit=16)
    rt.streams = service
    tasks = [asyncio.create_task(_sweeper(service), name="streams-sweeper"),
             asyncio.create_task(run_uploads(service), name="recording-uploads")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await service.sessions.close()
        rt.streams = None

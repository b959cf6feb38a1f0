"""Run the edge's aiohttp app behind the front door until SIGINT or SIGTERM (what `village-edge serve` does).

The app starts (its cleanup contexts run) before the port opens, and stops after it closes, as with `web.run_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
from collections.abc import Callable

from aiohttp import web

from ..runtime import RUNTIME
from ..web.staff_tls import staff_tls_port
from .front_door import IDLE_TIMEOUT_S, FrontDoor
from .media import MediaAnswers

log = logging.getLogger(__name__)
BACKLOG = 1024  # a village's set-top boxes reconnect together after a power cut
MAX_OPEN_FILES = 65536


def _allow_many_connections() -> None:
    """Each viewer's connection is a descriptor, and the usual soft limit of 1024 is a few hundred TVs too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _close_after_answer(request: web.Request, response: web.StreamResponse) -> None:
    if request.secure:
        return  # the staff page's HTTPS port has no front door: its connections stay open for the next request
    # The front door handed this connection over for one request: closing after it sends the next request back
    # to the front door, so a TV's kept-alive connection is never stuck on the slower path for its media.
    response.force_close()
    response.headers["Connection"] = "close"  # aiohttp has written its own by the time this hook runs


async def _close_idle(door: FrontDoor) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(IDLE_TIMEOUT_S / 5)
        door.close_idle(loop.time())


async def open_front_door(app: web.Application, app_protocol: Callable[[], asyncio.Protocol], host: str,
                          port: int) -> tuple[FrontDoor, asyncio.Server]:
    """Listen on host:port with the front door before a started app (`app_protocol` makes aiohttp's protocol)."""
    door = FrontDoor(MediaAnswers(app), app_protocol)
    server = await asyncio.get_running_loop().create_server(door, host, port, backlog=BACKLOG, reuse_address=True)
    return door, server


async def close_front_door(door: FrontDoor, server: asyncio.Server) -> None:
    server.close()
    door.close_all()
    await server.wait_closed()
    door.media.close()


async def serve_until_stopped(app: web.Application, host: str, port: int, stop: asyncio.Event) -> FrontDoor:
    """Start the app, serve until `stop` is set, stop the app; returns the front door (its counters)."""
    _allow_many_connections()
    app.on_response_prepare.append(_close_after_answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    app_protocol = runner.server
    assert app_protocol is not None
    try:
        door, server = await open_front_door(app, app_protocol, host, port)
    except BaseException:
        await runner.cleanup()
        raise
    idle = asyncio.create_task(_close_idle(door), name="front-door-idle")
    try:
        # The staff page's HTTPS port, beside this one, once the box has its certificate (edge/web/staff_tls.py).
        async with staff_tls_port(app, app[RUNTIME].config, app_protocol):
            await stop.wait()
    finally:
        idle.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await idle
        server.close()
        door.close_all()
        await runner.cleanup()  # closes the connections handed to aiohttp, then the app's cleanup contexts
        await close_front_door(door, server)
        log.info("front door answered %d requests itself and handed %d connections to the app",
                 door.answered, door.handed_over)
    return door


async def _serve(app: web.Application, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_until_stopped(app, host, port, stop)


def serve(app: web.Application, host: str, port: int) -> None:
    asyncio.run(_serve(app, host, port))

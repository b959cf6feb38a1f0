"""Looking at release offers in rounds: at once when the down feed (or a stick) brings one, else every
`update_check_s`, for as long as the server runs. The box's own updates and the set-top boxes' firmware both do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from edge.runtime import RUNTIME, EdgeRuntime

log = logging.getLogger(__name__)

Round = Callable[[EdgeRuntime], Awaitable[None]]


async def _rounds(rt: EdgeRuntime, one_round: Round, what: str) -> None:
    wake = asyncio.Event()
    await rt.db.on_insert("release_offers", wake.set)
    while True:
        try:
            await one_round(rt)
        except Exception:
            log.exception("%s failed; trying again later", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), rt.config.update_check_s)
        wake.clear()


def offer_rounds_ctx(name: str, one_round: Round) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs `one_round` in rounds while the app runs."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_rounds(app[RUNTIME], one_round, name), name=name)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx

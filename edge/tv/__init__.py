"""The TV app for residents at /tv/ (set-top box and phone), its emergency alerts and the content cache behind it.

`setup(app)` is all the edge's factory calls: routes, static files and the long-lived tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from edge.content.cache import CONTENT_CACHE, ContentCache
from edge.notices.alerts import AlertBoard

from ..runtime import RUNTIME
from . import alert_routes, keyboard_routes, pages
from .pinyin_dictionary import PinyinDictionary
from .render import STATIC_DIR


async def _tv_ctx(app: web.Application) -> AsyncIterator[None]:
    rt = app[RUNTIME]
    board = AlertBoard(rt.db, rt.config.alert_check_s, rt.config.alert_streams_max)
    cache = ContentCache(rt.content, rt.db, rt.config.content_quota_bytes, wake_fetcher=rt.sync.blobs_wanted.set)
    await cache.open()
    app[alert_routes.ALERT_BOARD] = board
    app[CONTENT_CACHE] = cache
    app[keyboard_routes.PINYIN] = PinyinDictionary(rt.config.data_dir)
    tasks = [asyncio.create_task(board.run(), name="alert-board"),
             asyncio.create_task(cache.run_flusher(), name="cache-flusher")]
    yield
    await board.close()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await cache.close()


async def _release_waiters(app: web.Application) -> None:
    # Runs before the server waits for open requests: held alert streams and long polls end at once.
    board = app.get(alert_routes.ALERT_BOARD)
    if board is not None:
        await board.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_tv_ctx)
    app.on_shutdown.append(_release_waiters)
    app.add_routes(pages.routes)
    app.add_routes(alert_routes.routes)
    app.add_routes(keyboard_routes.routes)
    app.router.add_static("/tv/static/", STATIC_DIR, name="tv_static")

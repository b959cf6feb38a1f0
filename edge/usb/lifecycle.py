"""The USB watcher's place in the edge app: started and stopped with the app's cleanup contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..runtime import RUNTIME
from .watcher import UsbWatcher

USB_WATCHER = web.AppKey("usb_watcher", UsbWatcher)


async def usb_watcher_ctx(app: web.Application) -> AsyncIterator[None]:
    watcher = UsbWatcher(app[RUNTIME])
    app[USB_WATCHER] = watcher
    await watcher.async_start()
    try:
        yield
    finally:
        await watcher.async_stop()

"""The edge's one application factory: routes, the store, and the long-lived tasks in cleanup contexts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from edge.box.state_holder import StateHolder
from edge.box.village_move import archive_if_moved, record_village, stop_for_restart
from edge.content.store import ContentStore
from edge.lan.discovery import DeviceTable, Discovery
from edge.residents.outbox import Outbox
from edge.residents.quotas import SubmissionQuota
from edge.sync.client import SyncClient
from protocol.body_deadline import body_deadline
from protocol.database import Database

from . import api_devices, api_resident, api_status, tv
from .config import EdgeConfig
from .runtime import RUNTIME, EdgeRuntime
from .schema import SCHEMA
from .staff import api_pairing as staff_pairing
from .staff.site import create_staff_app
from .staff.web import error_page as staff_error_page
from .streams import routes as streams_routes
from .streams.lifecycle import streams_ctx
from .tv.render import error_page as tv_error_page
from .updates import routes as update_routes
from .updates.stb_firmware import stb_firmware_ctx
from .updates.taker import updates_ctx
from .usage.lifecycle import usage_ctx
from .usb.lifecycle import usb_watcher_ctx
from .web import openapi
from .web.errors import ERROR_PAGES, ErrorPages, error_middleware
from .web.staff_tls import STAFF_TLS, StaffTls

log = logging.getLogger(__name__)


async def _runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    config: EdgeConfig = app[CONFIG]
    config.data_dir.mkdir(parents=True, exist_ok=True)
    holder = StateHolder(config.data_dir)
    village = holder.current.village_id if holder.current else None
    await asyncio.to_thread(archive_if_moved, config.data_dir, village)
    db = Database(config.data_dir / "edge.db")
    await db.open(SCHEMA)
    if village is not None:
        await record_village(db, village)
    content = ContentStore(config.data_dir / "content", db)
    sync = SyncClient(config, db, holder, content)
    quota = SubmissionQuota(config.submissions_per_device_per_hour, config.submissions_per_village_per_day)
    app[RUNTIME] = EdgeRuntime(config, db, Outbox(db, quota), holder, content, sync, DeviceTable(), time.time())
    try:
        yield
    finally:
        await db.close()


async def _watch_for_move(rt: EdgeRuntime) -> None:
    """A bundle for another village applied while running (stick or CLI) means a restart as that village."""
    known = rt.holder.current.village_id if rt.holder.current else None
    while True:
        await asyncio.sleep(1.0)
        now = rt.holder.current.village_id if rt.holder.current else None
        if now == known:
            continue
        if known is not None and now is not None:
            stop_for_restart(known, now)
            return
        known = now
        if now is not None:  # a fresh box was just provisioned: its database now belongs to this village
            await record_village(rt.db, now)


async def _sync_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(app[RUNTIME].sync.run(), name="sync"),
             asyncio.create_task(_watch_for_move(app[RUNTIME]), name="move-watch")]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _discovery_ctx(app: web.Application) -> AsyncIterator[None]:
    rt = app[RUNTIME]
    if not rt.config.mdns:
        yield
        return
    state = rt.holder.current
    discovery = Discovery(
        rt.devices,
        interfaces=[rt.config.lan or "127.0.0.1"],
        port=rt.config.listen_host_port[1],
        node_id=rt.holder.key.node_id,
        village_id=state.village_id if state else "",
        instance=f"villagenet-{rt.holder.key.node_id[:8].lower()}",
        recheck_interval_s=rt.config.discovery_recheck_s,
        stale_after_s=rt.config.discovery_stale_s,
    )
    try:
        await discovery.async_start()
    except OSError as exc:
        # A box without a usable multicast interface still serves everything else.
        log.error("mDNS could not start (%s); STBs must be pointed at this box by address", exc)
        yield
        return
    yield
    await discovery.async_stop()


CONFIG = web.AppKey("config", EdgeConfig)


def create_app(config: EdgeConfig) -> web.Application:
    app = web.Application(middlewares=[body_deadline(config.body_grace_s, config.body_min_bytes_per_s), error_middleware])
    app[CONFIG] = config
    app[STAFF_TLS] = StaffTls()  # the staff page's HTTPS port, opened by the server (edge/web/staff_tls.py)
    app[ERROR_PAGES] = ErrorPages()  # refusals on these pages are shown as pages, elsewhere as JSON
    app[ERROR_PAGES].register("/tv", tv_error_page)
    app[ERROR_PAGES].register("/staff", staff_error_page)
    app.cleanup_ctx.extend([_runtime_ctx, _sync_ctx, _discovery_ctx, usb_watcher_ctx])
    api_devices.setup(app)  # who is who on the LAN: every per-device route below checks its token
    app.add_routes(api_resident.routes)
    app.add_routes(api_status.routes)
    openapi.setup(app)  # GET /api/v1/openapi.json, from the route table in edge/web/openapi.py
    app.add_routes(streams_routes.routes)
    app.cleanup_ctx.append(streams_ctx)  # after the runtime and sync contexts it builds on
    app.add_routes(update_routes.routes)
    app.cleanup_ctx.append(updates_ctx)  # release offers: checked and downloaded here, installed by the supervisor
    app.cleanup_ctx.append(stb_firmware_ctx)  # set-top boxes' releases: cached once, offered on the LAN
    app.cleanup_ctx.append(usage_ctx)  # counts the TV pages' views and the streams' viewers: after both
    tv.setup(app)
    app.add_routes(staff_pairing.routes)  # before the /staff sub-app, which would answer "/staff" with a 404
    app.add_subapp("/staff", create_staff_app())
    return app

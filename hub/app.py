"""The hub's aiohttp application, assembled by one factory that the CLI and the tests use as it is.

The store is opened and the status poller started in a cleanup context; every failure answers `{error, detail}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from protocol.body_deadline import body_deadline
from protocol.http_errors import ApiError, error_middleware

from . import (
    case_deadlines,
    content_index,
    openapi,
    report_schedule,
    rollouts,
    routes_admin,
    routes_cases,
    routes_notices,
    routes_officials,
    routes_open311,
    routes_pages,
    routes_rollouts,
    routes_streams,
    routes_sync,
)
from .blob_serving import name_blob_etag
from .blobs import BlobStore
from .config import HubConfig
from .down_feed import DownFeed
from .errors import HubError
from .keys_store import load_admin_token, renew_trust_if_due
from .notice_review import publish_due
from .online_share import fold_now_and_then
from .routes_stats import routes as stats_routes
from .services import HUB, Hub
from .session_auth import identify
from .status_poller import StatusPoller, stale_after_s
from .store import HubStore

log = logging.getLogger(__name__)

# Bodies are read with explicit caps in the handlers (64 KiB JSON, 8 MiB batches, streamed blobs); this only
# bounds what aiohttp itself would buffer.
CLIENT_MAX_SIZE = 8 * 1024 * 1024 + 1024
SCHEDULE_CHECK_S = 2.0


@web.middleware
async def hub_error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Domain errors become the contract's `{error, detail}`; a bug becomes a 500 in the same shape."""
    try:
        return await handler(request)
    except HubError as exc:
        if exc.status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc.detail)
        raise ApiError(exc.status, exc.code, exc.detail, **exc.extra) from None
    except (web.HTTPException, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        raise ApiError(500, "internal_error", "the hub failed to handle this request; see its log") from None


def create_app(config: HubConfig) -> web.Application:
    """The hub for the data dir in `config`, which `village-hub init` has prepared."""
    keys = renew_trust_if_due(config.data_dir)
    store = HubStore(config.db_path)
    hub = Hub(
        config=config,
        keys=keys,
        admin_token=load_admin_token(config.data_dir),
        store=store,
        down=DownFeed(store, keys.signing),
        blobs=BlobStore(config.blobs_dir, store),
        poller=StatusPoller(config, store),
    )
    app = web.Application(
        middlewares=[body_deadline(config.body_grace_s, config.body_min_bytes_per_s), error_middleware,
                     hub_error_middleware, identify], client_max_size=CLIENT_MAX_SIZE
    )
    app[HUB] = hub
    app.on_response_prepare.append(name_blob_etag)
    app.add_routes(routes_sync.routes)
    content_index.setup(app)  # GET /content/{sha256}/index: what a box needs to fetch a release in chunks
    openapi.setup(app)  # GET /api/v1/openapi.json, from the route table in hub/openapi.py
    app.add_routes(routes_admin.routes)
    app.add_routes(routes_notices.routes)
    app.add_routes(routes_officials.routes)
    app.add_routes(routes_cases.routes)  # cases and routing rules (docs/cases.md)
    app.add_routes(routes_open311.routes)  # Open311 GeoReport v2 over the same cases
    app.add_routes(routes_pages.routes)  # the officials' web page under /admin/
    app.add_routes(routes_rollouts.routes)  # rollouts in waves (docs/updates.md)
    routes_streams.setup(app)  # streams, their relay, recordings and vote tallies
    app.add_routes(stats_routes)  # GET /api/v1/stats (docs/statistics.md)
    app.cleanup_ctx.append(_storage)
    app.cleanup_ctx.append(_background("status-poller", lambda hub: hub.poller.run()))
    app.cleanup_ctx.append(_background("scheduled-publication", _publish_when_due))
    app.cleanup_ctx.append(_background("online-share", lambda hub: fold_now_and_then(hub.store, stale_after_s(hub.config))))
    app.cleanup_ctx.append(_background("case-deadlines", lambda hub: case_deadlines.run(hub.store, hub.down)))
    app.cleanup_ctx.append(_background("monthly-reports", lambda hub: report_schedule.run(hub.store, hub.config)))
    app.cleanup_ctx.append(_background("rollouts", _advance_rollouts))
    return app


async def _storage(app: web.Application) -> AsyncIterator[None]:
    store = app[HUB].store
    await store.open()
    try:
        yield
    finally:
        await store.close()


async def _publish_when_due(hub: Hub) -> None:
    """Approved notices with a publish_at go out when it comes (within SCHEDULE_CHECK_S, well inside 10 s)."""
    while True:
        try:
            await publish_due(hub.store, hub.down, hub.blobs)
        except Exception:
            log.exception("scheduled publication failed; trying again")
        await asyncio.sleep(SCHEDULE_CHECK_S)


async def _advance_rollouts(hub: Hub) -> None:
    """Rollouts move on as the boxes report (docs/updates.md): next wave, pause, late villages."""
    while True:
        try:
            await rollouts.advance(hub.store, hub.down)
        except Exception:
            log.exception("rollouts could not be moved on; trying again")
        await asyncio.sleep(hub.config.rollout_check_s)


def _background(
    name: str, work: Callable[[Hub], Coroutine[Any, Any, None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `work` for as long as the app runs."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app[HUB]), name=name)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run

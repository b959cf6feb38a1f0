"""`GET /api/v1/update` (what the box runs and how its update went) and the health check the supervisor asks.

The health check says whether this process can do its job: it answers (so it serves `/api/v1/info` too), its
database opens, its sync loop runs. Whether the line to the hub is up is not asked: a village whose line is down
must still commit a good update.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from edge.runtime import RUNTIME

from .offers import refusals
from .state import load_state
from .version import running_version

routes = web.RouteTableDef()


@routes.get("/api/v1/update")
async def update_status(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    st = await asyncio.to_thread(load_state, rt.config.data_dir)
    return web.json_response({"update": st.public(running_version()), "refused": await refusals(rt.db)})


@routes.get("/api/v1/update/health")
async def health(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    checks: dict[str, object] = {"version": running_version()}
    try:
        checks["database"] = await rt.db.fetchvalue("SELECT COUNT(*) FROM release_offers") is not None
    except Exception as exc:  # any failure to read counts against the release, whatever it is
        checks["database"] = False
        checks["database_error"] = str(exc)
    # Provisioned: the sync loop has its session once it runs. Not provisioned: there is no loop to run yet.
    checks["sync"] = rt.holder.current is None or rt.sync.hub_client() is not None
    ok = bool(checks["database"]) and bool(checks["sync"])
    return web.json_response(checks, status=200 if ok else 503)

"""Routes outside /staff that belong to this part: the STB's pairing code, and /staff without its slash."""

from __future__ import annotations

import time

from aiohttp import web

from edge.residents.households import pairing_code_for

from ..runtime import RUNTIME

routes = web.RouteTableDef()


@routes.get("/api/v1/pairing")
async def pairing_code(request: web.Request) -> web.Response:
    """`{code, expires_in_s}` for the TV's settings screen; staff type the code to pair the STB with a household."""
    device_id = request.query.get("device_id", "")
    code, expires_at = await pairing_code_for(request.app[RUNTIME].db, device_id)
    return web.json_response(
        {"code": code, "device_id": device_id.strip(), "expires_in_s": max(0, int(expires_at - time.time()))},
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/staff")
async def staff_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound("/staff/")

"""Routes outside /staff that belong to this part: the STB's pairing code, and /staff without its slash."""

from __future__ import annotations

import time

from aiohttp import web

from edge.lan.mdns_txt import normalize_device_id
from edge.residents.households import pairing_code_for

from ..api_devices import device_acting_as
from ..errors import Refused
from ..runtime import RUNTIME

routes = web.RouteTableDef()


@routes.get("/api/v1/pairing")
async def pairing_code(request: web.Request) -> web.Response:
    """`{code, expires_in_s}` for the TV's settings screen; staff type the code to pair the STB with a household.

    Only the device itself may ask (its token): a code asked for another TV would let its asker pair that TV.
    """
    named = request.query.get("device_id")
    if named is not None and normalize_device_id(named) is None:
        raise Refused(400, "bad_device_id", "device_id must be 1 to 64 letters, digits or ._:-")
    device = device_acting_as(request, named.strip() if named is not None else None)
    code, expires_at = await pairing_code_for(request.app[RUNTIME].db, device.device_id)
    return web.json_response(
        {"code": code, "device_id": device.device_id, "expires_in_s": max(0, int(expires_at - time.time()))},
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/staff")
async def staff_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound("/staff/")

"""`GET /api/v1/update` (what the box runs and how its update went), the health check the supervisor asks, and the
set-top boxes' firmware routes on the LAN (`GET /api/v1/stb/firmware`, `POST /api/v1/stb/firmware/result`).

The health check says whether this process can do its job: it answers (so it serves `/api/v1/info` too), its
database opens, its sync loop runs. Whether the line to the hub is up is not asked: a village whose line is down
must still commit a good update.
"""

from __future__ import annotations

import asyncio
import base64
import re

from aiohttp import web

from edge.api_devices import device_acting_as
from edge.errors import Refused
from edge.runtime import RUNTIME
from protocol.errors import ProtocolError
from protocol.http_errors import read_json
from protocol.releases import parse_version

from .offers import refusals
from .state import load_state
from .stb_firmware import newest_for, offered
from .stb_status import record_result
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


_MODEL = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
MAX_REASON = 300


def _version(value: object, what: str) -> str:
    try:
        parse_version(value)  # type: ignore[arg-type]
    except ProtocolError:
        raise Refused(400, "bad_version", f"{what} must be 1 to 4 dotted numbers such as 1.2.3") from None
    assert isinstance(value, str)
    return value


@routes.get("/api/v1/stb/firmware")
async def stb_firmware(request: web.Request) -> web.Response:
    """`?model=M&fw=V` → the newest release for the model above V (200), or 204 when the STB is up to date.

    The answer carries what the STB checks the image against (SHA-256, size, the release key's signed metadata):
    the box has verified the release for it, and the STB checks the bytes it downloads from `url`."""
    model, running = request.query.get("model", ""), request.query.get("fw", "")
    if not _MODEL.match(model):
        raise Refused(400, "bad_model", "model must be 1 to 40 letters, digits or ._- (the STB's TXT model)")
    found = newest_for(await offered(request.app[RUNTIME]), model, _version(running, "fw"))
    if found is None:
        return web.Response(status=204, headers={"Cache-Control": "no-store"})
    r = found.release
    return web.json_response({
        "release": r.record_id, "model": model, "version": r.version, "sha256": r.sha256, "size": r.size,
        "url": f"/content/{r.sha256}", "signed": base64.b64encode(found.signed).decode(),
    }, headers={"Cache-Control": "no-store"})


@routes.post("/api/v1/stb/firmware/result")
async def stb_firmware_result(request: web.Request) -> web.Response:
    """The STB's word on an image: `{device_id, model, version, outcome: installed|refused, reason}`.

    Only a refusal changes what the status shows (why the STB stayed on its old version); an STB counts as
    updated once it advertises the new `fw`, whatever it says here."""
    body = await read_json(request, 4096)
    if not isinstance(body, dict) or set(body) - {"device_id", "model", "version", "outcome", "reason"}:
        raise Refused(400, "bad_body", "the body is {device_id, model, version, outcome, reason}")
    device = device_acting_as(request, body.get("device_id"))
    model, reason = body.get("model"), body.get("reason", "")
    if not isinstance(model, str) or not _MODEL.match(model):
        raise Refused(400, "bad_model", "model must be 1 to 40 letters, digits or ._-")
    if body.get("outcome") not in ("installed", "refused") or not isinstance(reason, str):
        raise Refused(400, "bad_outcome", "outcome is installed or refused, and reason a text")
    version = _version(body.get("version"), "version")
    await asyncio.to_thread(record_result, request.app[RUNTIME].config.data_dir, device.device_id, model, version,
                            str(body["outcome"]), reason[:MAX_REASON])
    return web.Response(status=204)

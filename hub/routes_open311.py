"""HTTP routes of Open311 GeoReport v2 under /open311/v2/ (JSON only). Handlers parse and answer; hub/open311.py
decides. services.json is public; reading and filing requests need an `api_key`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from protocol.http_errors import decode_json, read_body

from . import open311
from .errors import BadInput, NotFound
from .json_answers import MAX_JSON, json_answer
from .services import HUB

routes = web.RouteTableDef()


async def _fields(request: web.Request) -> dict[str, Any]:
    """A POST's fields: a form (as GeoReport v2 clients send them) or a JSON object."""
    raw = await read_body(request, MAX_JSON)
    if request.content_type == "application/json":
        try:
            body = decode_json(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise BadInput("the body must be a JSON object or a form", "not_json")
        return body
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise BadInput("the form must be UTF-8", "bad_input") from None
    return {k: v[0] for k, v in form.items()}


@routes.get("/open311/v2/services.json")
async def services(request: web.Request) -> web.Response:
    return json_answer(await open311.services(request.app[HUB].store))


@routes.get("/open311/v2/requests.json")
async def list_requests(request: web.Request) -> web.Response:
    store = request.app[HUB].store
    await open311.key_holder(store, request.query.get("api_key"))
    return json_answer(await open311.requests(store, dict(request.query)))


@routes.get("/open311/v2/requests/{id}.json")
async def one_request(request: web.Request) -> web.Response:
    store = request.app[HUB].store
    await open311.key_holder(store, request.query.get("api_key"))
    found = await open311.requests(store, {"service_request_id": request.match_info["id"]})
    if not found:
        raise NotFound(f"there is no service request {request.match_info['id']}", "unknown_case")
    return json_answer(found)


@routes.post("/open311/v2/requests.json")
async def file_request(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    fields = await _fields(request)
    holder = await open311.key_holder(hub.store, fields.get("api_key") or request.query.get("api_key"))
    case = await open311.file_request(hub.store, hub.down, holder, fields)
    return json_answer([{"service_request_id": case.id, "id": case.id, "service_notice": case.state,
                         "account_id": None}], status=201)

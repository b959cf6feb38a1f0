"""`POST /api/v1/devices` and the one check every per-device route makes: whose token is this, and is it theirs.

A request that reads or acts for a device carries the device's token in `X-Device-Token`. Page loads, alert
streams and other GETs may carry it in the `device_token` cookie instead (an EventSource cannot set headers);
a POST must use the header, which another web site cannot make a browser send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from edge.residents.devices import Device, DeviceRegistry
from protocol.http_errors import read_json

from .errors import Refused
from .runtime import RUNTIME
from .web.per_address import PerAddressLimit

routes = web.RouteTableDef()
DEVICE_REGISTRY = web.AppKey("device_registry", DeviceRegistry)
REGISTRATIONS = web.AppKey("device_registrations", PerAddressLimit)
TOKEN_HEADER = "X-Device-Token"
TOKEN_COOKIE = "device_token"


class NoDevice(Refused):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(401, code, detail)


def registry(request: web.Request) -> DeviceRegistry:
    return request.app[DEVICE_REGISTRY]


def request_token(request: web.Request) -> str | None:
    """The token the request carries: the header, or for a read the cookie."""
    token = request.headers.get(TOKEN_HEADER)
    if token is None and request.method in ("GET", "HEAD"):
        token = request.cookies.get(TOKEN_COOKIE)
    return token


def calling_device(request: web.Request) -> Device | None:
    """The device whose token the request carries, None without one; a token this box never issued is a 401."""
    token = request_token(request)
    if not token:
        return None
    device = registry(request).identify(token)
    if device is None:
        raise NoDevice("unknown_device_token", "这台电视的登记已失效，请重新打开首页。"
                       " This device token is not one this box issued; register again at POST /api/v1/devices.")
    return device


def device_acting_as(request: web.Request, named: object) -> Device:
    """The calling device, which must be the one `named` by the body or URL (None: whoever calls)."""
    device = calling_device(request)
    if device is None:
        raise NoDevice("device_token_required", "请从电视首页操作。"
                       f" This needs the device's token in {TOKEN_HEADER} (register at POST /api/v1/devices).")
    if named is not None and named != device.device_id:
        raise Refused(403, "not_your_device", "只能查看和提交本机的内容。"
                      f" This token belongs to {device.device_id}, not to {str(named)[:64]}.")
    return device


def _text(payload: dict[str, object], name: str) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str):
        raise Refused(400, "wrong_type", f"{name} must be text")
    return value


@routes.post("/api/v1/devices")
async def register_device(request: web.Request) -> web.Response:
    """`{model?, mw?, device_id?}` → 201 `{device_id, token}`; `device_id` is a portal's hint for a first visit."""
    payload = await read_json(request, 1024) if request.can_read_body else {}
    if not isinstance(payload, dict):
        raise Refused(400, "wrong_type", "the body must be a JSON object: {model?, mw?}")
    unknown = sorted(set(payload) - {"model", "mw", "device_id"})
    if unknown:
        raise Refused(400, "unknown_field", f"unknown field(s): {', '.join(unknown)}")
    model, middleware, wanted = _text(payload, "model"), _text(payload, "mw"), _text(payload, "device_id")
    limit = request.app[REGISTRATIONS]
    if not limit.take(request.remote):
        retry = limit.retry_after_s(request.remote)
        raise Refused(429, "too_many_registrations", "这台设备登记得太频繁了，请稍后再试。"
                      f" Too many registrations from this address; try again in {retry} s.", retry_after_s=retry)
    device, token = await registry(request).register(request.remote, model, middleware, wanted or None)
    return web.json_response({"device_id": device.device_id, "token": token}, status=201,
                             headers={"Cache-Control": "no-store"})


async def _registry_ctx(app: web.Application) -> AsyncIterator[None]:
    rt = app[RUNTIME]
    devices = DeviceRegistry(rt.db)
    await devices.open()
    app[DEVICE_REGISTRY] = devices
    # A household's TV and phones starting afresh now and then, not a host filling the table.
    app[REGISTRATIONS] = PerAddressLimit(rt.config.device_registrations_per_hour, 3600.0)
    yield


def setup(app: web.Application) -> None:
    """Routes and the registry; its context must come after the runtime's, which opens the database."""
    app.cleanup_ctx.append(_registry_ctx)
    app.add_routes(routes)

"""Who is looking at a TV page: the device, language, text size and STB middleware (for the key map).

The device is the one whose token the `device_token` cookie holds (the page script registers at
`POST /api/v1/devices` on a first visit and keeps the token in the cookie and in localStorage). An STB portal's
`?device=` is only a hint for that first registration: it never makes a page act as a device. The rest comes
from the URL first (`?mw=`, `?lang=`, `?big=`), then the cookie set on an earlier visit, then the device table
that mDNS fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from edge.lan.discovery import DeviceTable, normalize_device_id
from edge.residents.devices import Device

from ..api_devices import DEVICE_REGISTRY, TOKEN_COOKIE
from ..runtime import RUNTIME
from ..web.i18n import DEFAULT_LANGUAGE, normalize_language
from .keymaps import KeyMap, keymap_for

_TEN_YEARS = 10 * 365 * 24 * 3600
_TRANSPORTS = ("sse", "longpoll", "shortpoll")


@dataclass
class Viewer:
    device: Device | None  # None until the page has registered (its script does, then reloads)
    token: str  # the device's token, for the page's own requests (X-Device-Token); "" when unregistered
    device_hint: str  # an STB portal's ?device=: the id to ask for at the first registration
    lang: str
    big: bool
    middleware: str
    keymap: KeyMap
    alert_transport: str  # "" lets the page pick the best it has; tests and odd STBs force one
    set_cookies: dict[str, str] = field(default_factory=dict)

    @property
    def device_id(self) -> str:
        return self.device.device_id if self.device is not None else ""


def _middleware_from_devices(devices: DeviceTable, device_id: str, address: str | None) -> str:
    device = devices.get(device_id)
    if device is not None and device.middleware:
        return device.middleware
    for d in devices.alive():
        if address and d.address == address and d.middleware:
            return d.middleware
    return ""


def viewer_for(request: web.Request) -> Viewer:
    q, c = request.query, request.cookies
    cookies: dict[str, str] = {}
    devices: DeviceTable = request.config_dict[RUNTIME].devices
    token = c.get(TOKEN_COOKIE, "")
    device = request.config_dict[DEVICE_REGISTRY].identify(token)  # a stale token: the page registers again
    hint = normalize_device_id(q.get("device")) or ""
    device_id = device.device_id if device is not None else hint

    lang = normalize_language(q.get("lang")) or normalize_language(c.get("lang")) or DEFAULT_LANGUAGE
    if q.get("lang") and lang != c.get("lang"):
        cookies["lang"] = lang
    big_raw = q.get("big", c.get("big", "0"))
    big = big_raw == "1"
    if "big" in q and q["big"] in ("0", "1") and q["big"] != c.get("big"):
        cookies["big"] = q["big"]

    mw_raw = q.get("mw") or c.get("mw") or _middleware_from_devices(devices, device_id, request.remote)
    middleware, keymap = keymap_for(mw_raw)
    if q.get("mw") and middleware != c.get("mw"):
        cookies["mw"] = middleware
    transport = q.get("alerts", "")
    return Viewer(device, token if device is not None else "", hint, lang, big, middleware, keymap,
                  transport if transport in _TRANSPORTS else "", cookies)


def remember(response: web.StreamResponse, viewer: Viewer) -> None:
    """Keep what the URL said for the next page (links carry no query strings)."""
    for name, value in viewer.set_cookies.items():
        response.set_cookie(name, value, max_age=_TEN_YEARS, path="/", samesite="Lax")

"""Who is looking at a TV page: the device id, language, text size and STB middleware (for the key map).

Each comes from the URL first (an STB portal may pass ?device= and ?mw=), then the cookie set on an earlier
visit, then the device table that mDNS fills; a device id is generated once when none is known.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web

from edge.lan.discovery import DeviceTable, normalize_device_id

from ..web.i18n import DEFAULT_LANGUAGE, normalize_language
from .keymaps import KeyMap, keymap_for

_TEN_YEARS = 10 * 365 * 24 * 3600
_TRANSPORTS = ("sse", "longpoll", "shortpoll")


@dataclass
class Viewer:
    device_id: str
    device_from_url: bool
    lang: str
    big: bool
    middleware: str
    keymap: KeyMap
    alert_transport: str  # "" lets the page pick the best it has; tests and odd STBs force one
    set_cookies: dict[str, str] = field(default_factory=dict)


def _middleware_from_devices(devices: DeviceTable, device_id: str, address: str | None) -> str:
    device = devices.get(device_id)
    if device is not None and device.middleware:
        return device.middleware
    for d in devices.alive():
        if address and d.address == address and d.middleware:
            return d.middleware
    return ""


def viewer_for(request: web.Request, devices: DeviceTable) -> Viewer:
    q, c = request.query, request.cookies
    cookies: dict[str, str] = {}
    url_device = normalize_device_id(q.get("device"))
    device_id = url_device or normalize_device_id(c.get("device"))
    if device_id is None:
        device_id = "tv-" + secrets.token_hex(6)
    if device_id != c.get("device"):
        cookies["device"] = device_id

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
    return Viewer(device_id, url_device is not None, lang, big, middleware, keymap,
                  transport if transport in _TRANSPORTS else "", cookies)


def remember(response: web.StreamResponse, viewer: Viewer) -> None:
    """Keep what the URL said for the next page (links carry no query strings)."""
    for name, value in viewer.set_cookies.items():
        response.set_cookie(name, value, max_age=_TEN_YEARS, path="/", samesite="Lax")

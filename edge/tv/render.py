"""Rendering a TV page: Jinja2 templates with autoescaping, the viewer's strings, key map and settings.

Every page shares one frame (base.html): the safe area, the back button, the alert layer and the scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from ..errors import title_key
from ..runtime import RUNTIME
from ..web.i18n import Catalogs
from .viewer import Viewer, remember, viewer_for

_HERE = Path(__file__).parent
STATIC_DIR = _HERE / "static"
TEXTS = Catalogs(_HERE / "catalogs")  # templates and scripts never hold a sentence of their own
_SCRIPT_TEXTS = ("alert.", "form.", "live.", "mine.", "home.", "state.", "settings.", "nav.", "vote.",
                 "keyboard.")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,  # a missing value is a bug to see in tests, not an empty hole on a TV
)


def _size_text(size: int) -> str:
    if size >= 1024**2:
        return f"{size / 1024**2:.1f} MB"
    return f"{max(1, size // 1024)} KB"


def _short_time(value: str | None) -> str:
    """'2026-11-28T08:30:00.123Z' → '2026-11-28 08:30' (what an elderly reader needs, no seconds or zones)."""
    if not value:
        return ""
    return value[:16].replace("T", " ")


_env.filters["size_text"] = _size_text
_env.filters["short_time"] = _short_time


def render(request: web.Request, viewer: Viewer, template: str, *, heading: str, back: str | None,
           page: str, status: int = 200, **context: Any) -> web.Response:
    rt = request.app[RUNTIME]
    state = rt.holder.current
    t = TEXTS.translator(viewer.lang)
    html = _env.get_template(template).render(
        t=t,
        viewer=viewer,
        village=state.village_name if state else "",
        heading=heading,
        back_url=back,
        page=page,
        script_config={
            "keymap": viewer.keymap,
            "middleware": viewer.middleware,
            "device": viewer.device_id,
            "token": viewer.token,
            "deviceHint": viewer.device_hint,
            "alertTransport": viewer.alert_transport,
            "shortPollS": rt.config.alert_short_poll_s,
            "longPollS": rt.config.alert_wait_s,
            "backUrl": back or "",
            "page": page,
            "text": TEXTS.texts(viewer.lang, _SCRIPT_TEXTS),
        },
        **context,
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status,
                            headers={"Cache-Control": "no-store"})
    remember(response, viewer)
    return response


def error_page(request: web.Request, status: int, detail: str) -> web.Response:
    """A refusal on a TV page, in the TV's frame with a way home (registered with the edge's error middleware)."""
    viewer = viewer_for(request)
    return render(request, viewer, "gone.html", heading=TEXTS.translator(viewer.lang)(title_key(status)),
                  back="/tv/", page="error", message=detail, status=status)

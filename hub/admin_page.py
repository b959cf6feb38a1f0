"""The admin token's view of /admin/ (an overview: villages and the latest submissions) and the login page, whose
forms log in an official by name and password, or the set-up scripts' and demo's admin token.

Rendered on the server with Jinja2 and autoescaping (resident text is shown as text, never as markup).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .actors import Actor
from .page_render import page_env, render_page
from .services import HUB
from .status_poller import is_online

LATEST_SUBMISSIONS = 50


async def render_admin(request: web.Request, actor: Actor) -> web.Response:
    hub = request.app[HUB]
    store = hub.store
    villages = await store.list_villages(limit=100_000)
    statuses = await store.status_rows()
    rows: list[dict[str, Any]] = []
    for v in villages:
        status = statuses.get(v.id)
        doc = (status.document if status else None) or {}
        online = is_online(status, hub.config)
        rows.append({
            "id": v.id,
            "name": v.name,
            "town": v.town_name,
            "state": "online" if online else "offline" if v.edge_key is not None else "not_enrolled",
            "last_status_at": status.last_status_at if status else None,
            "queue_depth": doc.get("queue_depth", "—"),
            "stb_count": doc.get("stb_count", "—"),
            "version": doc.get("version", "—"),
        })
    names = {v.id: v.name for v in villages}
    subs = await store.list_submissions(None, None, LATEST_SUBMISSIONS)
    replies = await store.replies_for(subs)
    sub_rows = [
        {
            "id": s.id,
            "village": names.get(s.village_id, s.village_id),
            "kind": s.kind,
            "text": _summary(s.body),
            "received_at": s.received_at,
            "replies": len(replies[(s.village_id, s.id)]),
        }
        for s in subs
    ]
    online_count = sum(1 for r in rows if r["state"] == "online")
    return await render_page(request, actor, "admin.html", "worklist", villages=rows, online=online_count,
                             submissions=sub_rows)


def _summary(body: dict[str, Any], limit: int = 80) -> str:
    """The resident's words if the body has a text field, else a compact view of the fields."""
    for key in ("text", "content", "message", "comment"):
        if isinstance(body.get(key), str):
            text = str(body[key])
            break
    else:
        text = "，".join(f"{k}: {v}" for k, v in body.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_login(message: str) -> str:
    return page_env.get_template("admin_login.html").render(message=message)

"""The hub's staff web page (/admin/): villages with their online state and the latest submissions, in Chinese.

Rendered on the server with Jinja2 and autoescaping (resident text is shown as text, never as markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from .services import Hub
from .status_poller import is_online
from .validate import rfc3339

KIND_NAMES = {
    "feedback": "意见反馈",
    "consultation": "网上咨询",
    "service_request": "服务申请",
    "checkin": "平安签到",
    "incident": "事件上报",
    "vote": "投票",
    "rating": "满意度评价",
}
LATEST_SUBMISSIONS = 50

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _when(ts: float | None) -> str:
    return (rfc3339(ts) or "—").replace("T", " ").replace("Z", " UTC")


async def render_admin(hub: Hub) -> str:
    store = hub.store
    villages = await store.list_villages(limit=1000)
    statuses = await store.status_rows()
    rows: list[dict[str, Any]] = []
    for v in villages:
        status = statuses.get(v.id)
        doc = (status.document if status else None) or {}
        rows.append({
            "id": v.id,
            "name": v.name,
            "town": v.town_name,
            "online": is_online(status, hub.config),
            "enrolled": v.edge_key is not None,
            "last_status_at": _when(status.last_status_at if status else None),
            "queue_depth": doc.get("queue_depth", "—"),
            "stb_count": doc.get("stb_count", "—"),
            "version": doc.get("version", "—"),
        })
    names = {v.id: v.name for v in villages}
    subs = await store.list_submissions(None, None, LATEST_SUBMISSIONS)
    replies = await store.replies_for([s.id for s in subs])
    sub_rows = [
        {
            "id": s.id,
            "village": names.get(s.village_id, s.village_id),
            "kind": KIND_NAMES.get(s.kind, s.kind),
            "text": _summary(s.body),
            "received_at": _when(s.received_at),
            "replies": len(replies[s.id]),
        }
        for s in subs
    ]
    online = sum(1 for r in rows if r["online"])
    return _env.get_template("admin.html").render(
        hub_name=hub.keys.hub_name, villages=rows, online=online, submissions=sub_rows
    )


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
    return _env.get_template("admin_login.html").render(message=message)

"""The officials' page of rollouts (/admin/rollouts): each rollout's waves with their progress, the committed and
failed counts, each failure with the box's own reason, and the approve, pause, resume and abort buttons (forms
posted to /admin/rollouts/ID/ACTION with the session's CSRF token; hub/routes_rollouts.py).
"""

from __future__ import annotations

from aiohttp import web

from . import rollouts
from .page_render import refuse_page, render_page, require_page_actor
from .services import HUB


async def rollouts_page(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    if "admin" not in actor.roles:
        return await refuse_page(request, actor, "refused.admin")
    store = request.app[HUB].store
    shown = await rollouts.list_json(store, actor)
    names = await store.place_names()
    can_manage = actor.is_official and actor.scope == "city"
    return await render_page(request, actor, "rollouts.html", "rollouts", rollouts=shown, names=names,
                             can_manage=can_manage, done=request.query.get("done", ""))

"""The officials' pages about places and people: villages grouped by town with their online state, last contact
and backlog; accounts and the org tree for admins; live broadcasts; the password form.

Read-only views over the store; changes go through the JSON API from the page's script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import officials
from .org import org_tree
from .org_models import ROLES
from .page_render import AREA_KEYS, refuse_page, render_page, require_page_actor
from .scopes import covers, covers_placed
from .services import HUB
from .status_poller import is_online


@dataclass(frozen=True)
class VillageLine:
    """One village as the status poller last saw it."""

    id: str
    name: str
    state: str  # 'online', 'offline' or 'not_enrolled'
    last_contact: float | None
    backlog: Any
    stb_count: Any
    version: Any
    last_error: str | None


async def villages(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    hub = request.app[HUB]
    store = hub.store
    towns_in_order = await store.list_towns()
    town_names = {t.id: t.name for t in towns_in_order}
    statuses = await store.status_rows()
    groups: dict[str, list[VillageLine]] = {}
    for v in await store.list_villages(limit=100_000):
        if not covers_placed(actor.scope, f"village:{v.id}", v.town_id):
            continue
        status = statuses.get(v.id)
        doc = (status.document if status else None) or {}
        state = "online" if is_online(status, hub.config) else "offline" if v.edge_key else "not_enrolled"
        groups.setdefault(v.town_id, []).append(VillageLine(
            v.id, v.name, state, status.last_status_at if status else None, doc.get("queue_depth"),
            doc.get("stb_count"), doc.get("version"), status.last_error if status else None))
    towns = [(t.id, groups[t.id]) for t in towns_in_order if t.id in groups]
    counts = {"all": sum(len(g) for g in groups.values()),
              "online": sum(1 for g in groups.values() for line in g if line.state == "online")}
    return await render_page(request, actor, "villages.html", "villages", towns=towns, town_names=town_names,
                             counts=counts)


async def accounts(request: web.Request) -> web.Response:
    """Accounts, towns and units inside the admin's scope, with the forms that create and disable them."""
    actor = require_page_actor(request)
    if "admin" not in actor.roles:
        return await refuse_page(request, actor, "refused.admin")
    store = request.app[HUB].store
    names = await store.place_names()
    tree = await org_tree(store, actor)
    scopes: list[tuple[str, str]] = [("city", names.get("city", "全市"))] if actor.scope == "city" else []
    for town in tree["towns"]:
        if await covers(store, actor.scope, f"town:{town['id']}"):
            scopes.append((f"town:{town['id']}", town["name"]))
        scopes += [(f"unit:{u['id']}", f"{town['name']} · {u['name']}") for u in town["units"]]
        scopes += [(f"village:{v['id']}", f"{town['name']} · {v['name']}") for v in town["villages"]]
    scopes += [(f"unit:{u['id']}", u["name"]) for u in tree["units"]]
    if actor.scope not in dict(scopes):
        scopes.insert(0, (actor.scope, names.get(actor.scope, actor.scope)))
    return await render_page(
        request, actor, "accounts.html", "accounts", users=await officials.accounts_in_scope(store, actor),
        names=names, roles=ROLES, scopes=scopes, tree=tree, city_admin=actor.scope == "city",
        unit_parents=[("city", names.get("city", "全市"))] * (actor.scope == "city")
        + [(f"town:{t['id']}", t["name"]) for t in tree["towns"] if dict(scopes).get(f"town:{t['id']}")],
    )


async def streams(request: web.Request) -> web.Response:
    """Live broadcasts whose scope touches the official's. Starting and ending one is an admin-token route."""
    actor = require_page_actor(request)
    store = request.app[HUB].store
    names = await store.place_names()
    shown = [s for s in await store.list_streams() if await covers(store, actor.scope, s.scope)
             or await covers(store, s.scope, actor.scope)]
    return await render_page(request, actor, "streams.html", "streams", streams=shown, names=names,
                             areas=AREA_KEYS)


async def password(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    if not actor.is_official:
        return await refuse_page(request, actor, "refused.token_password")
    return await render_page(request, actor, "password.html", "password")


AUDIT_SHOWN = 200


async def audit(request: web.Request) -> web.Response:
    """The newest entries of the audit log about places in the admin's scope, newest first."""
    actor = require_page_actor(request)
    if "admin" not in actor.roles:
        return await refuse_page(request, actor, "refused.admin")
    store = request.app[HUB].store
    return await render_page(request, actor, "audit.html", "audit",
                             entries=await store.newest_audit_entries(AUDIT_SHOWN, within=actor.scope),
                             names=await store.place_names())

"""The organisation tree: one city, its towns (镇街) with their villages, and units (departments) under the city
or a town. Towns and units are made or renamed here; villages keep their registry (hub/registry.py).

Every change is made by an admin whose scope covers the place (the CLI acts for the whole city) and is audited.
"""

from __future__ import annotations

from typing import Any

from . import audit
from .actors import Actor, require_role, require_scope
from .errors import Unprocessable
from .scopes import covers_placed, parse_unit_parent, require_unit_id
from .store import HubStore
from .validate import require_town_id, text_field

MAX_NAME = 100


def clean_name(value: object) -> str:
    name = text_field({"name": value}, "name", MAX_NAME)
    assert name is not None
    return name


async def add_town(store: HubStore, actor: Actor, town_id: object, name: object) -> bool:
    """Create a town or rename it; True if it was created. A new town needs a city admin."""
    town = require_town_id(town_id, "town id")
    label = clean_name(name)
    require_role(actor, "admin")
    async with store.transaction() as tx:
        await require_scope(tx, actor, [f"town:{town}"])
        created = await tx.put_town(town, label)
        await audit.record(tx, actor.user, "town_add" if created else "town_rename", f"town:{town}", f"town:{town}",
                           f"name={label}")
    return created


async def add_unit(store: HubStore, actor: Actor, unit_id: object, name: object, parent: object) -> bool:
    """Create a unit under `city` or `town:ID`, or change its name and parent; True if it was created."""
    unit = require_unit_id(unit_id)
    label = clean_name(name)
    under = parse_unit_parent(parent)
    require_role(actor, "admin")
    async with store.transaction() as tx:
        if not await tx.scope_target_exists(under):
            raise Unprocessable(f"没有镇街 {under}，请先添加。There is no {under}; add the town first.", "unknown_parent")
        old = await tx.get_unit(unit)
        await require_scope(tx, actor, [under] + ([old.parent] if old else []))
        created = await tx.put_unit(unit, label, under)
        await audit.record(tx, actor.user, "unit_add" if created else "unit_update", f"unit:{unit}", under,
                           f"name={label} parent={under}")
    return created


async def org_tree(store: HubStore, actor: Actor) -> dict[str, Any]:
    """The city's towns with their villages and units, and the city's own units, as far as the actor's scope goes;
    names beside ids everywhere."""
    towns = await store.list_towns()
    units = await store.list_units()
    villages = await store.list_villages(limit=100_000)
    tree: list[dict[str, Any]] = []
    reach = actor.scope
    for town in towns:
        own_villages = [{"id": v.id, "name": v.name} for v in villages if v.town_id == town.id
                        and covers_placed(reach, f"village:{v.id}", town.id)]
        own_units = [{"id": u.id, "name": u.name} for u in units if u.parent == f"town:{town.id}"
                     and covers_placed(reach, f"unit:{u.id}", town.id)]
        if own_villages or own_units or covers_placed(reach, f"town:{town.id}", town.id):
            tree.append({**town.to_json(), "villages": own_villages, "units": own_units})
    city_units = [{"id": u.id, "name": u.name} for u in units if u.parent == "city"
                  and covers_placed(reach, f"unit:{u.id}", None)]
    return {"city": {"name": "全市"}, "towns": tree, "units": city_units}

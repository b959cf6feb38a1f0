"""Scopes, one idea everywhere: `city` covers everything, `town:T` covers T, its villages and its units, and
`village:V` and `unit:U` cover themselves only.

Every check of an official's reach goes through `covers` here, never through a handler's own comparison.
"""

from __future__ import annotations

import re
from typing import Protocol

from .errors import BadInput
from .validate import require_town_id, require_village_id

KINDS = ("city", "town", "village", "unit")
# Unit ids, like town ids, only appear in scopes and JSON: 民政局 may be an id.
_UNIT_ID = re.compile(r"^[\w.-]{1,64}$")


class OrgLookup(Protocol):
    """What coverage needs to know of the org tree; the store and an open transaction both answer it."""

    async def town_of_village(self, village_id: str) -> str | None: ...

    async def unit_parent(self, unit_id: str) -> str | None: ...


def require_unit_id(value: object, what: str = "unit id") -> str:
    if not isinstance(value, str) or not _UNIT_ID.match(value):
        raise BadInput(f"{what} must be 1-64 letters, digits, '.', '_' or '-'", "bad_id")
    return value


def parse_official_scope(value: object, what: str = "scope") -> str:
    """`city`, `town:ID`, `village:ID` or `unit:ID` (syntax only; whether the place exists is the store's)."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be a string: city, town:ID, village:ID or unit:ID", "wrong_type")
    kind, sep, ident = value.partition(":")
    if value == "city":
        return value
    if sep and kind == "town":
        require_town_id(ident, f"the town in {what}")
    elif sep and kind == "village":
        require_village_id(ident, f"the village in {what}")
    elif sep and kind == "unit":
        require_unit_id(ident, f"the unit in {what}")
    else:
        raise BadInput(f"{what} {value!r} is unknown; use city, town:ID, village:ID or unit:ID", "unknown_scope")
    return value


def parse_unit_parent(value: object) -> str:
    """A unit hangs under `city` or `town:ID`."""
    scope = parse_official_scope(value, "parent")
    if scope != "city" and not scope.startswith("town:"):
        raise BadInput("a unit's parent must be city or town:ID", "bad_parent")
    return scope


async def town_of(org: OrgLookup, scope: str) -> str | None:
    """The town a place lies in (itself for a town); None for the city, a unit of the city, or an unknown place."""
    kind, _, ident = scope.partition(":")
    if kind == "town":
        return ident
    if kind == "village":
        return await org.town_of_village(ident)
    if kind == "unit":
        parent = await org.unit_parent(ident)
        return parent.partition(":")[2] if parent and parent.startswith("town:") else None
    return None


def covers_placed(outer: str, inner: str, inner_town: str | None) -> bool:
    """`covers` when the town `inner` lies in is already known."""
    if outer == "city" or outer == inner:
        return True
    kind, _, ident = outer.partition(":")
    return kind == "town" and inner != "city" and inner_town == ident


async def covers(org: OrgLookup, outer: str, inner: str) -> bool:
    """Does `outer` (an official's scope) reach `inner` (a place, a notice target, another official's scope)?"""
    if outer == "city" or outer == inner or not outer.startswith("town:"):
        return outer == "city" or outer == inner
    return covers_placed(outer, inner, await town_of(org, inner))


async def covers_all(org: OrgLookup, outer: str, inners: list[str]) -> bool:
    for inner in inners:
        if not await covers(org, outer, inner):
            return False
    return True


async def common_scope(org: OrgLookup, places: list[str]) -> str:
    """The narrowest scope holding every place: itself for one, their town when they share one, else `city`."""
    if len(places) == 1:
        return places[0]
    towns = {await town_of(org, p) for p in places}
    town = towns.pop() if len(towns) == 1 else None
    return f"town:{town}" if town else "city"

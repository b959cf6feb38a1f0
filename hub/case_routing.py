"""Routing rules: a case of a kind (and category) goes to a unit, due in so many working days.

Without a rule a case waits for its village's town dispatcher (state `new`) with the kind's default time limit.
A rule's category matches a case's exactly, or as its beginning (`养老助老` catches every elderly-care request,
whose service reads `养老助老：上门探访`); the longest match wins, then the kind's rule without a category.
Rules are city-wide: the CLI, or a dispatcher or admin of scope `city`, sets them.
"""

from __future__ import annotations

from typing import Any

from . import audit
from .actors import Actor, require_role, require_scope
from .case_models import RouteRule
from .errors import BadInput, Unprocessable
from .scopes import require_unit_id
from .store import HubStore
from .store_tx import Tx
from .working_days import MAX_DAYS

CASE_KINDS = ("feedback", "consultation", "service_request", "incident")
# Time limits without a rule, in working days, after 12345 hotlines' practice: enquiries and help requests 3,
# complaints and suggestions 15; an incident is urgent, so the next working day.
DEFAULT_DAYS = {"feedback": 15, "consultation": 3, "service_request": 3, "incident": 1}
MAX_CATEGORY = 100


def category_of(kind: str, body: dict[str, Any]) -> str:
    """The category a submission names: its `category`, a service request's `service`, a chosen feedback's text."""
    for name in ("category", "service"):
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_CATEGORY]
    text = body.get("text")
    if kind == "feedback" and "choice" in body and isinstance(text, str):
        return text.strip()[:MAX_CATEGORY]
    return ""


def words_of(body: dict[str, Any]) -> str:
    """What the resident said, as one text for the case."""
    parts = [body.get(n) for n in ("service", "category", "text")]
    seen: list[str] = []
    for part in parts:
        if isinstance(part, str) and part.strip() and part.strip() not in seen:
            seen.append(part.strip())
    return " / ".join(seen)


def choose(rules: list[RouteRule], category: str) -> RouteRule | None:
    matching = [r for r in rules if r.category and category.startswith(r.category)]
    if matching:
        return max(matching, key=lambda r: len(r.category))
    return next((r for r in rules if not r.category), None)


async def route_for(tx: Tx, kind: str, category: str) -> RouteRule | None:
    return choose(await tx.routes_for_kind(kind), category)


def parse_rule(kind: object, category: object, unit: object, days: object) -> RouteRule:
    if kind not in CASE_KINDS:
        raise BadInput(f"kind must be one of {', '.join(CASE_KINDS)}", "unknown_kind")
    assert isinstance(kind, str)
    if category is not None and (not isinstance(category, str) or len(category.strip()) > MAX_CATEGORY):
        raise BadInput(f"category must be text of at most {MAX_CATEGORY} characters", "bad_category")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise BadInput(f"days must be a whole number of working days from 0 to {MAX_DAYS}", "bad_days")
    return RouteRule(kind, (category or "").strip(), require_unit_id(unit), days)


async def add_route(store: HubStore, actor: Actor, rule: RouteRule) -> bool:
    """Create or change the rule for (kind, category); True if it was new."""
    require_role(actor, "dispatcher", "admin")
    async with store.transaction() as tx:
        await require_scope(tx, actor, ["city"])
        if await tx.get_unit(rule.unit) is None:
            raise Unprocessable(f"没有单位 {rule.unit}，请先添加。There is no unit {rule.unit}; add it first.",
                                "unknown_unit")
        created = await tx.put_route(rule)
        await audit.record(tx, actor.user, "route_add" if created else "route_update", f"unit:{rule.unit}", "city",
                           f"kind={rule.kind} category={rule.category or '*'} days={rule.days}")
    return created


async def remove_route(store: HubStore, actor: Actor, kind: object, category: object) -> bool:
    rule = parse_rule(kind, category, "x", 0)
    require_role(actor, "dispatcher", "admin")
    async with store.transaction() as tx:
        await require_scope(tx, actor, ["city"])
        removed = await tx.delete_route(rule.kind, rule.category)
        if removed:
            await audit.record(tx, actor.user, "route_delete", "city", "city",
                               f"kind={rule.kind} category={rule.category or '*'}")
    return removed

"""The officials' dashboard (/admin/dashboard): the headline rates of their scope with the change from the previous
period, charts (trend by week, rates by town, satisfaction, the villages' map), and a ranking of towns and villages.

The figures are computed once on the server (hub/stats_dashboard.py) and rendered into the page: the cards and the
ranking are plain HTML, and the same answer rides along as a JSON data block for the charts' script
(hub/static/dashboard.js, drawing with the hub's own copy of Apache ECharts).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from .actors import Actor, require_scope
from .errors import BadInput
from .page_i18n import Translate, page_language, page_translator
from .page_render import refuse_page, render_page, require_page_actor
from .scopes import parse_official_scope
from .services import HUB
from .stats_answer import STATS_ROLES
from .stats_dashboard import dashboard_answer
from .stats_period import Period, month_period, today
from .store import HubStore

PERIOD_DAYS = (7, 30, 90, 365)


def may_see_stats(actor: Actor) -> bool:
    return any(role in actor.roles for role in STATS_ROLES)


def chosen_period(raw: str | None, now: date) -> Period:
    """`?period=days:N` (the N days ending today; 30 by default) or `?period=month:YYYY-MM` (a whole month)."""
    kind, _, value = (raw or "days:30").partition(":")
    if kind == "month":
        try:
            return month_period(date.fromisoformat(f"{value}-01"))
        except ValueError:
            raise BadInput("the period's month must be written like month:2026-11", "bad_parameter") from None
    if kind != "days" or value not in {str(d) for d in PERIOD_DAYS}:
        raise BadInput(f"the period must be days:N (N one of {', '.join(map(str, PERIOD_DAYS))}) or month:YYYY-MM",
                       "bad_parameter")
    return Period(now - timedelta(days=int(value) - 1), now)


def period_choices(t: Translate, now: date) -> list[tuple[str, str]]:
    """The periods offered: the last N days, then this month and the eleven before it."""
    choices = [(f"days:{d}", t("dash.days", n=d)) for d in PERIOD_DAYS]
    month = now.replace(day=1)
    for _ in range(12):
        choices.append((f"month:{month.isoformat()[:7]}", t("dash.month", month=month.isoformat()[:7])))
        month = (month - timedelta(days=1)).replace(day=1)
    return choices


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_text(t: Translate, change: float | None) -> tuple[str, str]:
    """The change in percentage points as words, and its direction ('up', 'down', 'same' or 'none')."""
    if change is None:
        return t("dash.no_change"), "none"
    points = round(change * 100, 1)
    direction = "up" if points > 0 else "down" if points < 0 else "same"
    return t(f"dash.change_{direction}", points=f"{abs(points):.1f}"), direction


def _place_row(place: dict[str, Any]) -> dict[str, Any]:
    cases, usage = place["cases"], place["usage"]
    return {
        "id": place["id"], "name": place["name"], "town_name": place.get("town_name", ""),
        "received": cases["total"], "accepted": percent(cases["accepted_on_time_rate"]),
        "answered": percent(cases["answered_on_time_rate"]),
        "satisfied": percent(cases["satisfaction"]["satisfied_rate"]), "overdue": cases["overdue"],
        "tv_reach": percent(usage["tv_reach"]), "online": percent(usage["online_share"]),
        "sort": (cases["answered_on_time_rate"] is None, -(cases["answered_on_time_rate"] or 0),
                 -(cases["satisfaction"]["satisfied_rate"] or 0), cases["overdue"], place["id"]),
    }


def ranking(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Places best first: by answered on time, then satisfied, then fewer overdue; places without cases last."""
    return sorted((_place_row(p) for p in places), key=lambda row: row["sort"])


async def scope_choices(store: HubStore, actor: Actor) -> list[tuple[str, str]]:
    """The scopes the official may look at: their own, then the towns and villages inside it."""
    names = await store.place_names()
    choices = [(actor.scope, names.get(actor.scope, actor.scope))]
    places = await store.village_places(actor.scope)
    if actor.scope == "city":
        choices += [(f"town:{tid}", names.get(f"town:{tid}", tid)) for tid in dict.fromkeys(p["town"] for p in places)]
    if actor.scope.startswith(("city", "town:")):
        choices += [(f"village:{p['id']}", f"{p['town_name']} · {p['name']}") for p in places]
    return choices


async def dashboard(request: web.Request) -> web.Response:
    actor = require_page_actor(request)
    if not may_see_stats(actor):
        return await refuse_page(request, actor, "refused.stats")
    hub = request.app[HUB]
    q = request.query
    scope = parse_official_scope(q.get("scope") or actor.scope)
    await require_scope(hub.store, actor, [scope])
    now = today(hub.store.clock())
    choice = q.get("period") or "days:30"
    period = chosen_period(choice, now)
    # A month compares with the month before; the last N days with the N days before them.
    before = month_period(period.first - timedelta(days=1)) if choice.startswith("month:") else None
    answer = await dashboard_answer(hub.store, hub.config, scope, period, before)
    t = page_translator(page_language(request))
    cards = []
    for line in answer["headlines"]:
        words, direction = change_text(t, line["change"])
        cards.append({**line, "name_key": f"dash.h.{line['key']}", "value_text": percent(line["value"]),
                      "previous_text": percent(line["previous"]),
                      "change_text": words, "direction": direction})
    last_month = period.last.replace(day=1) - timedelta(days=1)
    return await render_page(
        request, actor, "dashboard.html", "dashboard", answer=answer, cards=cards,
        towns=ranking(answer["towns"]), villages=ranking(answer["villages"]), scope=scope, choice=choice,
        scopes=await scope_choices(hub.store, actor), periods=period_choices(t, now),
        report_month=(period.first if choice.startswith("month:") else last_month).isoformat()[:7],
    )

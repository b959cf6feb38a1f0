"""GET /api/v1/stats: figures per scope and period for officials (viewer and up), inside their own scope only.

Handlers parse and answer; hub/stats_usage.py and hub/stats_cases.py compute. The status history is folded into
the online time per day first, so the online share counts every pull up to this request.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .actors import require_role, require_scope
from .errors import NotFound
from .json_answers import json_answer
from .online_share import fold_status_history
from .scopes import parse_official_scope
from .services import HUB
from .session_auth import require_actor
from .stats_cases import case_stats
from .stats_export import XLSX_TYPE, stats_workbook
from .stats_period import parse_period
from .stats_usage import usage_stats
from .status_poller import stale_after_s

routes = web.RouteTableDef()
STATS_ROLES = ("viewer", "dispatcher", "handler", "admin")


async def _stats_answer(request: web.Request) -> dict[str, Any]:
    """The figures the caller asked for, after checking their role and scope (the JSON and the workbook share it)."""
    actor = require_actor(request)
    require_role(actor, *STATS_ROLES)
    hub = request.app[HUB]
    q = request.query
    scope = parse_official_scope(q.get("scope") or actor.scope)
    period = parse_period(q.get("from"), q.get("to"))
    await require_scope(hub.store, actor, [scope])
    names = await hub.store.place_names()
    if scope not in names:
        raise NotFound(f"{scope} 不存在。There is no place {scope}.", "no_such_place")
    await fold_status_history(hub.store, stale_after_s(hub.config))
    usage = await usage_stats(hub.store, scope, period)
    cases = await case_stats(hub.store, scope, period)
    return {
        "scope": scope, "scope_name": names[scope], "from": period.first.isoformat(), "to": period.last.isoformat(),
        "cases": cases.cases, "usage": usage["usage"], "units": cases.units,
        "towns": [{**t, "cases": cases.of_town(t["id"])} for t in usage["towns"]],
        "villages": [{**v, "cases": cases.of_village(v["id"])} for v in usage["villages"]],
    }


@routes.get("/api/v1/stats")
async def stats(request: web.Request) -> web.Response:
    return json_answer(await _stats_answer(request))


@routes.get("/api/v1/stats.xlsx")
async def stats_xlsx(request: web.Request) -> web.Response:
    answer = await _stats_answer(request)
    name = f"stats-{answer['scope'].replace(':', '-')}-{answer['from']}-{answer['to']}.xlsx"
    return web.Response(body=stats_workbook(answer), content_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

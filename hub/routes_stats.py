"""GET /api/v1/stats (and .xlsx, /dashboard, the monthly report PDF): figures per scope and period for officials
(viewer and up), inside their own scope only.

Handlers parse and answer; hub/stats_usage.py and hub/stats_cases.py compute. The status history is folded into
the online time per day first, so the online share counts every pull up to this request.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .actors import require_role, require_scope
from .json_answers import json_answer
from .page_i18n import page_language
from .report_monthly import PDF_TYPE, monthly_report_pdf, parse_month
from .scopes import parse_official_scope
from .services import HUB
from .session_auth import require_actor
from .stats_answer import STATS_ROLES, scope_name, stats_answer
from .stats_dashboard import dashboard_answer
from .stats_export import XLSX_TYPE, stats_workbook
from .stats_period import Period, parse_period
from .status_poller import stale_after_s

routes = web.RouteTableDef()


async def asked_scope_and_period(request: web.Request) -> tuple[str, Period]:
    """The scope and period the caller asked for, after checking their role and scope (every stats route)."""
    actor = require_actor(request)
    require_role(actor, *STATS_ROLES)
    q = request.query
    scope = parse_official_scope(q.get("scope") or actor.scope)
    period = parse_period(q.get("from"), q.get("to"))
    await require_scope(request.app[HUB].store, actor, [scope])
    return scope, period


async def _stats_answer(request: web.Request) -> dict[str, Any]:
    hub = request.app[HUB]
    scope, period = await asked_scope_and_period(request)
    return await stats_answer(hub.store, scope, period, stale_after_s(hub.config))


@routes.get("/api/v1/stats")
async def stats(request: web.Request) -> web.Response:
    return json_answer(await _stats_answer(request))


@routes.get("/api/v1/stats.xlsx")
async def stats_xlsx(request: web.Request) -> web.Response:
    answer = await _stats_answer(request)
    name = f"stats-{answer['scope'].replace(':', '-')}-{answer['from']}-{answer['to']}.xlsx"
    return web.Response(body=stats_workbook(answer), content_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@routes.get("/api/v1/stats/dashboard")
async def stats_dashboard(request: web.Request) -> web.Response:
    """The dashboard's figures: the stats answer with headline changes, a weekly trend and the villages' map."""
    hub = request.app[HUB]
    scope, period = await asked_scope_and_period(request)
    return json_answer(await dashboard_answer(hub.store, hub.config, scope, period))


@routes.get("/api/v1/reports/monthly.pdf")
async def monthly_report(request: web.Request) -> web.Response:
    """The monthly report (月报) of a scope as a PDF, `month=YYYY-MM` (the month before this one by default)."""
    hub = request.app[HUB]
    actor = require_actor(request)
    require_role(actor, *STATS_ROLES)
    scope = parse_official_scope(request.query.get("scope") or actor.scope)
    month = parse_month(request.query.get("month"), hub.store.clock())
    await require_scope(hub.store, actor, [scope])
    await scope_name(hub.store, scope)
    pdf = await monthly_report_pdf(hub.store, hub.config, scope, month, page_language(request))
    name = f"report-{scope.replace(':', '-')}-{month.isoformat()[:7]}.pdf"
    return web.Response(body=pdf, content_type=PDF_TYPE, headers={"Content-Disposition": f'inline; filename="{name}"'})

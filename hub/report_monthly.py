"""The monthly report (月报) of a scope as a printable PDF: the month's figures against the month before, charts as
server-drawn SVG, the towns and villages ranked, and the list of the month's cases overdue now.

HTML from a Jinja template (hub/templates/report_monthly.html) printed by WeasyPrint, which runs no script; the
figures are the dashboard's (hub/stats_dashboard.py), so the report and the page cannot disagree.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime, timedelta
from typing import Any

from .config import HubConfig
from .errors import BadInput, HubError
from .page_i18n import page_translator
from .page_render import page_env
from .pages_dashboard import change_text, percent, ranking
from .report_charts import Series, bar_chart
from .stats_dashboard import dashboard_answer
from .stats_period import STATS_ZONE, month_period, today
from .store import HubStore

PDF_TYPE = "application/pdf"
OVERDUE_LISTED = 200  # a longer list is cut (the report says how many more; the worklist has them all)
PRINT_TIMEOUT_S = 120.0
RATE_COLORS = ("#3b6fb6", "#5b9b3a", "#c99a00")
SCORE_COLORS = "#0b4f9c"


class ReportFailed(HubError):
    """The printer failed or hung: a 500 whose detail (logged) carries WeasyPrint's last words."""

    status = 500
    code = "report_failed"


def parse_month(raw: str | None, now: float) -> date:
    """`YYYY-MM`; the month before this one when not given. A month that has not begun is refused."""
    if not raw:
        return (today(now).replace(day=1) - timedelta(days=1)).replace(day=1)
    try:
        if len(raw) != 7:
            raise ValueError
        month = date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise BadInput("the parameter 'month' must be a month such as 2026-11", "bad_parameter") from None
    if month > today(now):
        raise BadInput(f"the month {raw} has not begun yet", "bad_parameter")
    return month


def _charts(answer: dict[str, Any], t: Any) -> dict[str, str]:
    towns = answer["towns"] if len(answer["towns"]) > 1 else answer["villages"]  # a town's report: its villages
    rates = [Series(t(f"dash.h.{key}"), color, [get(town["cases"]) for town in towns]) for (key, get), color in zip(
        (("accepted_on_time_rate", lambda c: c["accepted_on_time_rate"]),
         ("answered_on_time_rate", lambda c: c["answered_on_time_rate"]),
         ("satisfied_rate", lambda c: c["satisfaction"]["satisfied_rate"])), RATE_COLORS, strict=True)]
    distribution = answer["cases"]["satisfaction"]["distribution"]
    return {
        "towns": bar_chart([town["name"] for town in towns], rates, percent=True) if towns else "",
        "satisfaction": bar_chart([f"{s}{t('js.dash.points')}" for s in "12345"],
                                  [Series(t("js.dash.ratings"), SCORE_COLORS, [distribution[s] for s in "12345"])]),
        "weeks": bar_chart([w["week"][5:] for w in answer["weeks"]],
                           [Series(t("js.dash.received"), SCORE_COLORS, [w["received"] for w in answer["weeks"]])]),
    }


async def report_html(store: HubStore, config: HubConfig, scope: str, month: date, lang: str = "zh-CN") -> str:
    period = month_period(month)
    before = month_period(period.first - timedelta(days=1))
    answer = await dashboard_answer(store, config, scope, period, before)
    now = store.clock()
    overdue = await store.overdue_cases(scope, period, now, OVERDUE_LISTED)
    t = page_translator(lang)
    lines = []
    for line in answer["headlines"]:
        words, direction = change_text(t, line["change"])
        lines.append({"name": t(f"dash.h.{line['key']}"), "value": percent(line["value"]),
                      "previous": percent(line["previous"]), "change": words, "direction": direction})
    return page_env.get_template("report_monthly.html").render(
        t=t, lang=lang, answer=answer, month=month.isoformat()[:7], lines=lines, charts=_charts(answer, t),
        towns=ranking(answer["towns"]), villages=ranking(answer["villages"]), overdue=overdue,
        more_overdue=max(answer["cases"]["overdue"] - len(overdue), 0),
        made_at=datetime.fromtimestamp(now, STATS_ZONE).strftime("%Y-%m-%d %H:%M"),
    )


async def print_pdf(html: str) -> bytes:
    """HTML to PDF by WeasyPrint in a process of its own: a city's report takes seconds of pure-Python CPU, which
    in a thread would hold the interpreter's lock and slow every other request. It may fetch nothing but data:
    URLs (the report has none: its charts are inline SVG)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "weasyprint", "--quiet", "--encoding", "utf-8", "--allowed-protocols", "data", "-", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        pdf, errors = await asyncio.wait_for(proc.communicate(html.encode()), PRINT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ReportFailed(f"printing the report took more than {PRINT_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0 or not pdf.startswith(b"%PDF-"):
        raise ReportFailed(f"WeasyPrint failed ({proc.returncode}): {errors.decode(errors='replace')[-300:]}")
    return pdf


async def monthly_report_pdf(store: HubStore, config: HubConfig, scope: str, month: date,
                             lang: str = "zh-CN") -> bytes:
    """The report as PDF bytes."""
    return await print_pdf(await report_html(store, config, scope, month, lang))

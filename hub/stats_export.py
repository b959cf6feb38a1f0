"""GET /api/v1/stats.xlsx: the same answer as GET /api/v1/stats as a workbook, a sheet per table, for a leader to
open in Excel or WPS and forward.

Built from the JSON answer itself, so the two cannot disagree. Headers are Chinese; every count and rate is written
as a number (a rate as a fraction with a percent format), never as text, so the cells sum and sort; a figure with
nothing to divide by is an empty cell, as it is null in the JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.00%"

Getter = Callable[[dict[str, Any]], Any]


def _at(*path: str) -> Getter:
    """Reads a figure by its path in a place's answer (`cases`, `by_state`, `new`); None where it is absent."""
    def get(place: dict[str, Any]) -> Any:
        value: Any = place
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value
    return get


def _case(*path: str) -> Getter:
    return _at("cases", *path)


def _usage(*path: str) -> Getter:
    return _at("usage", *path)


# (header, how to read it from a place's answer, whether it is a rate shown as a percentage)
FIGURES: tuple[tuple[str, Getter, bool], ...] = (
    ("受理件数", _case("total"), False),
    ("待派单", _case("by_state", "new"), False),
    ("待签收", _case("by_state", "assigned"), False),
    ("办理中", _case("by_state", "in_progress"), False),
    ("已答复", _case("by_state", "answered"), False),
    ("已办结", _case("by_state", "closed"), False),
    ("签收及时率", _case("accepted_on_time_rate"), True),
    ("按时答复率", _case("answered_on_time_rate"), True),
    ("当前超期件数", _case("overdue"), False),
    ("答复用时中位数(小时)", _case("median_hours_to_answer"), False),
    ("评价件数", _case("satisfaction", "ratings"), False),
    ("满意率", _case("satisfaction", "satisfied_rate"), True),
    ("平均评分", _case("satisfaction", "mean"), False),
    *((f"{s}分件数", _case("satisfaction", "distribution", str(s)), False) for s in range(1, 6)),
)
USAGE_FIGURES: tuple[tuple[str, Getter, bool], ...] = (
    ("上报天数", _usage("village_days"), False),
    ("电视触达率", _usage("tv_reach"), True),
    ("通知触达率", _usage("notice_reach"), True),
    ("通知浏览次数", _usage("notice_views"), False),
    ("直播观看分钟", _usage("viewers", "live", "minutes"), False),
    ("回放观看分钟", _usage("viewers", "recorded", "minutes"), False),
    ("预警确认率", _usage("alerts", "acknowledged_rate"), True),
    ("预警平均确认秒数", _usage("alerts", "mean_seconds_to_acknowledge"), False),
    ("独居老人签到率", _usage("checkins", "compliance"), True),
    ("在线率", _usage("online_share"), True),
)


def _number(value: Any) -> int | float | None:
    """A figure as a cell: numbers stay numbers; a missing one (null) is an empty cell."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _write(sheet: Worksheet, row: int, column: int, value: Any, percent: bool) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    if percent and value is not None:
        cell.number_format = PERCENT


def _table(sheet: Worksheet, leading: tuple[str, ...], rows: list[tuple[tuple[str, ...], dict[str, Any]]],
           figures: tuple[tuple[str, Getter, bool], ...]) -> None:
    """A header row, then one row per place: its naming columns, then each figure."""
    sheet.append([*leading, *(header for header, _, _ in figures)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, (names, place) in enumerate(rows, start=2):
        for c, name in enumerate(names, start=1):
            sheet.cell(row=r, column=c, value=name)
        for c, (_, get, percent) in enumerate(figures, start=len(leading) + 1):
            _write(sheet, r, c, _number(get(place)), percent)
    sheet.freeze_panes = sheet.cell(row=2, column=len(leading) + 1)


def _summary(sheet: Worksheet, answer: dict[str, Any]) -> None:
    sheet.append(["范围", answer["scope_name"]])
    sheet.append(["范围代码", answer["scope"]])
    sheet.append(["起始日期", answer["from"]])
    sheet.append(["截止日期", answer["to"]])
    sheet.append([])
    sheet.append(["指标", "数值"])
    for cell in sheet[6]:
        cell.font = Font(bold=True)
    for header, get, percent in (*FIGURES, *USAGE_FIGURES):
        sheet.append([header])
        _write(sheet, sheet.max_row, 2, _number(get(answer)), percent)
    sheet.column_dimensions["A"].width = 24


def stats_workbook(answer: dict[str, Any]) -> bytes:
    """The workbook of a GET /api/v1/stats answer: 概况 (the scope), 乡镇, 村, 单位."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook always has its first sheet
    summary.title = "概况"
    _summary(summary, answer)
    both = (*FIGURES, *USAGE_FIGURES)
    _table(book.create_sheet("乡镇"), ("乡镇代码", "乡镇"),
           [((t["id"], t["name"]), t) for t in answer["towns"]], both)
    _table(book.create_sheet("村"), ("村代码", "村", "乡镇"),
           [((v["id"], v["name"], v["town_name"]), v) for v in answer["villages"]], both)
    _table(book.create_sheet("单位"), ("单位代码", "单位"),
           [((u["id"], u["name"]), u) for u in answer["units"]], FIGURES)
    out = BytesIO()
    book.save(out)
    return out.getvalue()

"""GET /api/v1/stats, the cases part, and GET /api/v1/stats.xlsx: known cases with controlled times and ratings
give exactly the figures worked out by hand for the city, a town, a village and each unit; the workbook holds the
same figures as the JSON, as numbers.

城关镇 (east: e1, e2, e3) and 河西镇 (west: w1). The hub's clock stands at 2026-11-30 12:00 in Shanghai; the period
is November 2026. Times below are Asia/Shanghai.

| case | village | unit | state | accept_by / signed | due_at / answered | hours to answer | rating |
| --- | --- | --- | --- | --- | --- | --- | --- |
| c1 | e1 | east-mz | closed | 11-03 00:00 / 11-02 10:00 on time | 11-07 00:00 / 11-04 09:00 on time | 48 | 5 |
| c2 | e1 | east-mz | answered | 11-24 00:00 / 11-24 08:00 late | 11-27 00:00 / 11-28 09:00 late | 120 | - |
| c3 | e1 | east-cg | assigned, overdue | 11-11 00:00 / not signed: late | 11-20 00:00 / none: late | - | - |
| c4 | e1 | east-cg | closed | 11-21 00:00 / 11-20 10:00 on time | 11-27 00:00 / 11-20 21:00 on time | 12 | 4 |
| c5 | e2 | - | new | - | - | - | - |
| c6 | e2 | east-mz | in_progress | 11-29 00:00 / 11-28 10:00 on time | 12-05 00:00 / not yet due: undecided | - | - |
| c7 | w1 | west-pcs | closed | 11-07 00:00 / 11-06 10:00 on time | 11-13 00:00 / 11-06 15:00 on time | 6 | 1 |
| c8 | w1 | west-pcs | closed | 11-08 00:00 / 11-07 10:00 on time | 11-14 00:00 / 11-09 09:00 on time | 48 | 3 |
| c9 | e1 | east-mz | closed (received 10-31: outside the period) | | | | 5 |
| c10 | (Open311) | mzj | in_progress, overdue | 11-16 00:00 / 11-15 10:00 on time | 11-20 00:00 / none: late | - | - |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

import openpyxl
import pytest

from hub.case_models import Case
from hub.stats_export import FIGURES, USAGE_FIGURES
from hub.stats_period import STATS_ZONE

from .kit import HubKit
from .official_kit import body_of, official, two_towns

PERIOD = "from=2026-11-01&to=2026-11-30"


def at(text: str | None) -> float | None:
    """A Shanghai time in November 2026 ('11-02 10:00') as unix seconds."""
    if text is None:
        return None
    return datetime.fromisoformat(f"2026-{text.replace(' ', 'T')}").replace(tzinfo=STATS_ZONE).timestamp()


def case(n: int, village: str | None, unit: str | None, state: str, received: str, accept_by: str | None = None,
         signed: str | None = None, due: str | None = None, answered: str | None = None, overdue: bool = False,
         rating: int | None = None) -> Case:
    received_at = at(received)
    assert received_at is not None
    return Case(
        id=f"c{n}", submission_id=f"s{n}" if village else None, village_id=village,
        town_id={"e1": "east", "e2": "east", "w1": "west"}.get(village or ""), source="village" if village else
        "open311", kind="request", category="", text="路灯坏了", state=state, unit=unit, handled_by=None,
        time_limit_days=5, received_at=received_at, accept_by=at(accept_by), due_at=at(due),
        calendar_fallback=False, overdue=overdue, escalated_to="city" if overdue else None, reopened=False,
        rating=rating, extension_request=None, accepted_at=at(signed), answered_at=at(answered),
        closed_at=at(answered) if state == "closed" else None, updated_at=received_at,
    )


CASES = [
    case(1, "e1", "east-mz", "closed", "11-02 09:00", "11-03 00:00", "11-02 10:00", "11-07 00:00", "11-04 09:00",
         rating=5),
    case(2, "e1", "east-mz", "answered", "11-23 09:00", "11-24 00:00", "11-24 08:00", "11-27 00:00", "11-28 09:00",
         overdue=True),
    case(3, "e1", "east-cg", "assigned", "11-10 09:00", "11-11 00:00", None, "11-20 00:00", None, overdue=True),
    case(4, "e1", "east-cg", "closed", "11-20 09:00", "11-21 00:00", "11-20 10:00", "11-27 00:00", "11-20 21:00",
         rating=4),
    case(5, "e2", None, "new", "11-05 09:00"),
    case(6, "e2", "east-mz", "in_progress", "11-28 09:00", "11-29 00:00", "11-28 10:00", "12-05 00:00"),
    case(7, "w1", "west-pcs", "closed", "11-06 09:00", "11-07 00:00", "11-06 10:00", "11-13 00:00", "11-06 15:00",
         rating=1),
    case(8, "w1", "west-pcs", "closed", "11-07 09:00", "11-08 00:00", "11-07 10:00", "11-14 00:00", "11-09 09:00",
         rating=3),
    case(9, "e1", "east-mz", "closed", "10-31 09:00", "11-01 00:00", "10-31 10:00", "11-05 00:00", "11-01 09:00",
         rating=5),
    case(10, None, "mzj", "in_progress", "11-15 09:00", "11-16 00:00", "11-15 10:00", "11-20 00:00", None,
         overdue=True),
]


def states(new: int = 0, assigned: int = 0, in_progress: int = 0, answered: int = 0, closed: int = 0) -> dict[str, int]:
    return {"new": new, "assigned": assigned, "in_progress": in_progress, "answered": answered, "closed": closed}


def expected(total: int, by_state: dict[str, int], accepted: tuple[int, int, float], answered: tuple[int, int, float],
             overdue: int, hours: tuple[int, float], ratings: tuple[int, int, float, float], *scores: int
             ) -> dict[str, Any]:
    """The `cases` figures: accepted and answered as (on time, decided, rate), hours as (answered, median), ratings
    as (ratings, satisfied, rate, mean), then how many of each score 1..5."""
    return {
        "total": total, "by_state": by_state,
        "accepted_on_time": accepted[0], "acceptance_due": accepted[1], "accepted_on_time_rate": accepted[2],
        "answered_on_time": answered[0], "answer_due": answered[1], "answered_on_time_rate": answered[2],
        "overdue": overdue, "answered": hours[0], "median_hours_to_answer": hours[1],
        "satisfaction": {"ratings": ratings[0], "satisfied": ratings[1], "satisfied_rate": ratings[2],
                         "mean": ratings[3], "distribution": {str(s): n for s, n in zip(range(1, 6), scores,
                                                                                         strict=True)}},
    }


@dataclass
class Officials:
    city: dict[str, str]
    east: dict[str, str]
    w1: dict[str, str]


@pytest.fixture
async def viewers(city: HubKit) -> Officials:
    # Logged in before the fixture sets the hub's clock back to November (sessions expire by the real time).
    return Officials(await official(city, "shi-chakan", "viewer", "city"),
                     await official(city, "zhen-chakan", "viewer", "town:east"),
                     await official(city, "cun-chakan", "viewer", "village:w1"))


@pytest.fixture
async def city(kit: HubKit) -> HubKit:
    await two_towns(kit)
    async with kit.hub.store.transaction() as tx:
        for uid, name, parent in (("east-mz", "城关镇民政办", "town:east"), ("east-cg", "城关镇城管办", "town:east"),
                                  ("west-pcs", "河西派出所", "town:west"), ("mzj", "民政局", "city")):
            await tx.put_unit(uid, name, parent)
        for c in CASES:
            assert await tx.insert_case(c)
    return kit


@pytest.fixture
async def at_end_of_november(city: HubKit, viewers: Officials) -> Officials:
    city.hub.store.clock = lambda: at("11-30 12:00") or 0.0
    return viewers


async def _stats(kit: HubKit, headers: dict[str, str], query: str) -> tuple[int, dict[str, Any]]:
    resp = await kit.client.get(f"/api/v1/stats?{query}", headers=headers)
    return resp.status, await body_of(resp)


async def _november(kit: HubKit, headers: dict[str, str], scope: str) -> dict[str, Any]:
    status, answer = await _stats(kit, headers, f"scope={scope}&{PERIOD}")
    assert status == 200, answer
    return answer


HAND_COMPUTED = {
    "city": expected(
        9, states(new=1, assigned=1, in_progress=2, answered=1, closed=4),
        (6, 8, 0.75),  # signed for: c1 c4 c6 c7 c8 c10 on time, c2 late, c3 past accept_by unsigned; c5 no deadline
        (4, 7, 0.5714),  # answered: c1 c4 c7 c8 on time; c2 late; c3 and c10 past due_at; c6 not yet due
        2,  # overdue now: c3 and c10, open and past a deadline (c2 was late but is answered)
        (5, 48.0),  # hours to answer 6, 12, 48, 48, 120
        (4, 2, 0.5, 3.25), 1, 0, 1, 1, 1,  # ratings 5, 4, 1, 3
    ),
    "town:east": expected(
        6, states(new=1, assigned=1, in_progress=1, answered=1, closed=2),
        (3, 5, 0.6),  # c1 c4 c6 on time of c1 c2 c3 c4 c6
        (2, 4, 0.5),  # c1 c4 on time of c1 c2 c3 c4
        1,  # c3
        (3, 48.0),  # 12, 48, 120
        (2, 2, 1.0, 4.5), 0, 0, 0, 1, 1,  # ratings 5 and 4
    ),
    "village:w1": expected(
        2, states(closed=2), (2, 2, 1.0), (2, 2, 1.0), 0,
        (2, 27.0),  # 6 and 48
        (2, 0, 0.0, 2.0), 1, 0, 1, 0, 0,  # ratings 1 and 3: nobody satisfied is 0.0, not null
    ),
}


@pytest.mark.parametrize("scope", list(HAND_COMPUTED))
async def test_known_cases_give_the_hand_computed_figures_for_the_city_a_town_and_a_village(
    city: HubKit, at_end_of_november: Officials, scope: str
) -> None:
    viewer = {"city": at_end_of_november.city, "town:east": at_end_of_november.east,
              "village:w1": at_end_of_november.w1}[scope]
    answer = await _november(city, viewer, scope)
    assert answer["cases"] == HAND_COMPUTED[scope]


async def test_each_unit_town_and_village_has_its_own_figures(city: HubKit, at_end_of_november: Officials) -> None:
    answer = await _november(city, at_end_of_november.city, "city")
    units = {u["id"]: u for u in answer["units"]}
    assert sorted(units) == ["east-cg", "east-mz", "mzj", "west-pcs"]
    assert units["mzj"]["name"] == "民政局"
    assert units["east-mz"]["cases"]["total"] == 3  # c1, c2, c6
    assert units["east-mz"]["cases"]["accepted_on_time_rate"] == round(2 / 3, 4)
    assert units["east-mz"]["cases"]["answered_on_time_rate"] == 0.5  # c1 on time, c2 late, c6 undecided
    assert units["mzj"]["cases"]["overdue"] == 1
    towns = {t["id"]: t["cases"] for t in answer["towns"]}
    assert towns == {"east": HAND_COMPUTED["town:east"], "west": HAND_COMPUTED["village:w1"]}  # Open311's: no town
    villages = {v["id"]: v["cases"] for v in answer["villages"]}
    assert villages["w1"] == HAND_COMPUTED["village:w1"]
    assert villages["e3"]["total"] == 0 and villages["e3"]["accepted_on_time_rate"] is None
    east = await _november(city, at_end_of_november.east, "town:east")
    assert sorted(u["id"] for u in east["units"]) == ["east-cg", "east-mz"]


async def test_a_period_without_cases_has_zero_counts_and_null_rates(city: HubKit, at_end_of_november: Officials) -> None:
    viewer = at_end_of_november.city
    status, answer = await _stats(city, viewer, "scope=city&from=2026-09-01&to=2026-09-30")
    assert status == 200, answer
    assert answer["cases"]["total"] == 0 and answer["units"] == []
    assert answer["cases"]["accepted_on_time_rate"] is None
    assert answer["cases"]["satisfaction"]["mean"] is None


async def test_a_town_viewer_asking_for_another_town_or_the_city_gets_403_for_both_json_and_workbook(
    city: HubKit, at_end_of_november: Officials
) -> None:
    viewer = at_end_of_november.east
    for path in ("/api/v1/stats", "/api/v1/stats.xlsx"):
        for scope in ("town:west", "village:w1", "city"):
            resp = await city.client.get(f"{path}?scope={scope}&{PERIOD}", headers=viewer)
            refused = await body_of(resp)
            assert (resp.status, refused["error"]) == (403, "out_of_scope"), (path, scope)


def _rows(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


async def test_the_workbook_opens_and_holds_the_same_figures_as_the_json_as_numbers(city: HubKit, at_end_of_november: Officials) -> None:
    viewer = at_end_of_november.city
    _, answer = await _stats(city, viewer, f"scope=city&{PERIOD}")
    resp = await city.client.get(f"/api/v1/stats.xlsx?scope=city&{PERIOD}", headers=viewer)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(BytesIO(await resp.read()))
    assert book.sheetnames == ["概况", "乡镇", "村", "单位"]

    summary = {row[0]: row[1] for row in _rows(book["概况"]) if row and row[0]}
    assert summary["范围"] == "全市" and summary["起始日期"] == "2026-11-01"
    assert (summary["受理件数"], summary["签收及时率"], summary["按时答复率"]) == (9, 0.75, 0.5714)
    assert (summary["当前超期件数"], summary["答复用时中位数(小时)"]) == (2, 48.0)
    assert (summary["评价件数"], summary["满意率"], summary["平均评分"], summary["1分件数"]) == (4, 0.5, 3.25, 1)
    for header, get, _ in (*FIGURES, *USAGE_FIGURES):
        assert summary[header] == get(answer), header

    def same_as_json(sheet: str, places: list[dict[str, Any]], leading: int,
                     figures: tuple[Any, ...]) -> None:
        rows = _rows(book[sheet])
        assert rows[0][leading:] == [header for header, _, _ in figures]
        by_id = {row[0]: row for row in rows[1:]}
        assert sorted(by_id) == sorted(p["id"] for p in places)
        for place in places:
            for value, (header, get, _) in zip(by_id[place["id"]][leading:], figures, strict=True):
                assert value == get(place), (sheet, place["id"], header)
                assert value is None or isinstance(value, (int, float)), (sheet, header, value)

    same_as_json("乡镇", answer["towns"], 2, (*FIGURES, *USAGE_FIGURES))
    same_as_json("村", answer["villages"], 3, (*FIGURES, *USAGE_FIGURES))
    same_as_json("单位", answer["units"], 2, FIGURES)
    cell = book["概况"].cell(row=[r[0] for r in _rows(book["概况"])].index("签收及时率") + 1, column=2)
    assert cell.data_type == "n" and cell.number_format == "0.00%"  # a number shown as a percentage, not text

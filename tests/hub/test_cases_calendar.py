"""Working days on the Chinese holiday calendar, what happens past the years the calendar knows, and routing rules
from the real `village-hub route add` command.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from hub.case_resident import local_day
from hub.working_days import LAST_KNOWN_YEAR, add_working_days, extend

from .case_kit import case_world, end_of_day_utc, shanghai
from .kit import HubKit
from .test_hub_cli import run


def _day(ts: float) -> str:
    day = local_day(ts - 1)
    assert day is not None
    return day


def test_the_national_day_week_and_the_saturday_worked_in_lieu_are_counted_right() -> None:
    start = shanghai(2026, 9, 30)
    assert [_day(add_working_days(start, n).at) for n in (0, 1, 2, 3, 4)] == [
        "2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10", "2026-10-12"]
    assert not add_working_days(start, 3).fallback
    # Received on a holiday: the first working day after it is day 1.
    assert _day(add_working_days(shanghai(2026, 10, 3), 1).at) == "2026-10-08"
    assert _day(extend(add_working_days(start, 1).at, 2).at) == "2026-10-10"


def _wednesday_past_the_calendar() -> date:
    """The first Wednesday of June in the year after the last one the installed calendar knows."""
    day = date(LAST_KNOWN_YEAR + 1, 6, 1)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def test_past_the_calendar_s_last_year_days_are_counted_monday_to_friday_and_flagged() -> None:
    wednesday = _wednesday_past_the_calendar()
    deadline = add_working_days(shanghai(wednesday.year, wednesday.month, wednesday.day), 3)
    # Thursday, Friday, then Monday: the weekend is skipped, whatever holidays that year will bring.
    assert (_day(deadline.at), deadline.fallback) == ((wednesday + timedelta(days=5)).isoformat(), True)
    assert add_working_days(shanghai(LAST_KNOWN_YEAR, 6, 1), 2).fallback is False


async def test_a_case_due_past_the_calendar_is_flagged_and_a_warning_is_logged(
        kit: HubKit, caplog: pytest.LogCaptureFixture) -> None:
    world = await case_world(kit)
    await world.route("consultation", "east-mz", 3)
    wednesday = _wednesday_past_the_calendar()
    kit.hub.store.clock = lambda: shanghai(wednesday.year, wednesday.month, wednesday.day)
    with caplog.at_level(logging.WARNING, logger="hub.cases"):
        sub_id = await world.submit()
    case = await world.case_of(sub_id, world.handler)
    monday = wednesday + timedelta(days=5)
    assert (case["due_at"], case["calendar_fallback"]) == (end_of_day_utc(monday.year, monday.month, monday.day),
                                                           True)
    assert any("Monday to Friday" in r.getMessage() and case["id"] in r.getMessage() for r in caplog.records)


def _hub_with_unit(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    for args in (("init", "--data", str(data)), ("town", "add", "--data", str(data), "--id", "east", "--name", "城关镇"),
                 ("unit", "add", "--data", str(data), "--id", "east-mz", "--name", "城关镇民政办", "--parent",
                  "town:east")):
        result = run(*args)
        assert result.returncode == 0, result.stderr
    return data


def test_route_add_on_the_command_line_sets_a_rule_and_route_list_prints_it(tmp_path: Path) -> None:
    data = _hub_with_unit(tmp_path)
    result = run("route", "add", "--data", str(data), "--kind", "consultation", "--category", "社会救助",
                 "--unit", "east-mz", "--days", "3")
    assert result.returncode == 0, result.stderr
    assert "east-mz" in result.stdout
    listed = run("route", "list", "--data", str(data))
    assert listed.stdout.splitlines() == ["consultation\t社会救助\tunit:east-mz\t3 working day(s)"]
    again = run("route", "add", "--data", str(data), "--kind", "consultation", "--category", "社会救助",
                "--unit", "east-mz", "--days", "5")
    assert again.returncode == 0 and again.stdout.startswith("changed")


def test_route_add_for_an_unknown_unit_or_bad_days_exits_2_with_a_sentence(tmp_path: Path) -> None:
    data = _hub_with_unit(tmp_path)
    unknown = run("route", "add", "--data", str(data), "--kind", "incident", "--unit", "nope", "--days", "1")
    assert unknown.returncode == 2 and "no unit nope" in unknown.stderr
    bad = run("route", "add", "--data", str(data), "--kind", "incident", "--unit", "east-mz", "--days", "-1")
    assert bad.returncode == 2 and "working days" in bad.stderr
    assert run("route", "list", "--data", str(data)).stdout == ""

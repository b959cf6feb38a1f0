"""Working days on the Chinese public-holiday calendar, in Asia/Shanghai: what a case's deadlines are counted in.

The calendar is `chinese_calendar` (holidays and the weekend days worked in lieu, as the State Council announces
them each winter). It knows the years up to its release; for a later year, until the package is updated, a day
is a working day when it is Monday to Friday, a warning is logged and the deadline carries `calendar_fallback`, so
a dispatcher knows to check it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_KNOWN_YEAR = min(d.year for d in chinese_calendar.holidays)
LAST_KNOWN_YEAR = max(d.year for d in chinese_calendar.holidays)
MAX_DAYS = 365
_warned_years: set[int] = set()


@dataclass(frozen=True)
class Deadline:
    at: float  # unix seconds: the end (24:00 in Shanghai) of the working day it falls on
    fallback: bool  # counted partly by Monday to Friday, past the calendar's years


def calendar_knows(day: date) -> bool:
    return FIRST_KNOWN_YEAR <= day.year <= LAST_KNOWN_YEAR


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working day?, decided by the Monday-to-Friday fallback?)."""
    if calendar_knows(day):
        return bool(chinese_calendar.is_workday(day)), False
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        log.warning("the holiday calendar (chinesecalendar) knows %d-%d only; counting %d by Monday to Friday"
                    " until the package is updated", FIRST_KNOWN_YEAR, LAST_KNOWN_YEAR, day.year)
    return day.weekday() < 5, True


def local_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, SHANGHAI).date()


def end_of(day: date) -> float:
    """24:00 of `day` in Shanghai (the start of the next day), as unix seconds."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).timestamp()


def add_working_days(start: float, days: int) -> Deadline:
    """The end of the `days`-th working day after the day of `start` (the day received does not count, as at a
    12345 hotline); 0 days is the end of the day itself (same-day matters such as emergencies)."""
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"working days must be 0 to {MAX_DAYS}")
    day = local_date(start)
    fallback = False
    left = days
    while left > 0:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        fallback = fallback or guessed
        left -= working
    return Deadline(end_of(day), fallback)


def extend(deadline: float, days: int) -> Deadline:
    """A deadline moved on by `days` working days (an extension granted by a dispatcher)."""
    return add_working_days(deadline - 1, days)

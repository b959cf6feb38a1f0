"""The period a statistic covers: whole calendar days in Asia/Shanghai, `from` and `to` both included.

Usage records are kept by day already; cases are timed in unix seconds, so `bounds()` gives the period's start and
end as seconds for them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import BadInput

STATS_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: enough for a year against the year before


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[float, float]:
        """Unix seconds of the first day's start and of the end of the last day (exclusive)."""
        start = datetime.combine(self.first, datetime.min.time(), STATS_ZONE)
        end = datetime.combine(self.last + timedelta(days=1), datetime.min.time(), STATS_ZONE)
        return start.timestamp(), end.timestamp()

    def previous(self) -> Period:
        """The period of the same length just before this one (for "change from the previous period")."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))


def month_period(month: date) -> Period:
    """The whole calendar month that `month` lies in."""
    first = month.replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def today(now: float | None = None) -> date:
    return datetime.fromtimestamp(time.time() if now is None else now, STATS_ZONE).date()


def _date(raw: str, name: str) -> date:
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"the parameter {name!r} must be a date such as 2026-12-01", "bad_parameter") from None


def parse_period(raw_from: str | None, raw_to: str | None, now: float | None = None) -> Period:
    """`from` and `to` as dates; `to` defaults to today, `from` to DEFAULT_DAYS days ending at `to`."""
    last = _date(raw_to, "to") if raw_to else today(now)
    first = _date(raw_from, "from") if raw_from else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadInput("the period's 'from' must not be after its 'to'", "bad_parameter")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadInput(f"a period may cover at most {MAX_DAYS} days", "bad_parameter")
    return Period(first, last)

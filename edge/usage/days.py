"""Which usage day a moment belongs to: the calendar day in the village's time zone (Asia/Shanghai), as the hub's
statistics count periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from edge.residents.households import village_timezone


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, village_timezone()).date().isoformat()


def day_bounds_utc(day: str) -> tuple[str, str]:
    """The day's start and the next day's start as RFC 3339 UTC text, as the edge's logs write times."""
    start = datetime.combine(date.fromisoformat(day), time(0), village_timezone())
    end = start + timedelta(days=1)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt)


def day_end_ts(day: str) -> float:
    """Unix seconds when the day is over."""
    start = datetime.combine(date.fromisoformat(day), time(0), village_timezone())
    return (start + timedelta(days=1)).timestamp()

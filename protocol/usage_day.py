"""A village's usage on one finished day (`usage_day`, edge-owned): counts only, in a closed shape.

Nothing in it may name a device or a household: every field is a count, an area code or a notice id (a UUID), and
any other key is refused, so an id cannot ride along in an extra field (docs/statistics.md defines each count).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from . import codec
from .errors import DecodeError

MAX_COUNT = 10**9
MAX_NOTICES = 1000  # notices viewed on one day; more are folded into the total only
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Each section's fields; every one is a count.
SECTIONS: dict[str, tuple[str, ...]] = {
    "live": ("peak", "minutes"),
    "recorded": ("peak", "minutes"),
    "alerts": ("shown", "acknowledged", "ack_seconds"),
    "checkins": ("registered", "checked_in"),
}
TOP_COUNTS = ("tvs_active", "households", "notice_views", "notice_viewers")
FIELDS = frozenset({"day", *TOP_COUNTS, "area_opens", "notices", *SECTIONS})


def is_notice_id(value: object) -> bool:
    """Notices are named by UUIDs (the hub's and the village's own alike)."""
    return isinstance(value, str) and bool(_UUID.match(value))


def record_id(day: str) -> str:
    """One record per village and day, named by the day: a second put of it would be the same record."""
    return f"usage-{day}"


def parse_day(value: object, what: str = "day") -> date:
    if not isinstance(value, str) or not _DAY.match(value):
        raise DecodeError(f"{what} must be a date such as 2026-12-06")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DecodeError(f"{what} {value!r} is not a calendar date") from None


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise DecodeError(f"usage_day.{what} must be a whole number from 0 to {MAX_COUNT}")
    return value


def _only(m: dict[str, Any], allowed: frozenset[str] | tuple[str, ...], what: str) -> None:
    extra = sorted(str(k) for k in m if k not in allowed)
    if extra:
        raise DecodeError(f"{what} has fields a usage record may not carry: {', '.join(extra)}")
    missing = sorted(k for k in allowed if k not in m)
    if missing:
        raise DecodeError(f"{what} lacks {', '.join(missing)}")


def validate_usage_day(record: str, body: dict[str, Any], areas: tuple[str, ...]) -> None:
    """Refuse anything but the documented counts; the record id must be `usage-<its day>`; `areas` are the area
    codes (protocol/records.py AREAS) that `area_opens` may name."""
    _only(body, FIELDS, "usage_day")
    day = parse_day(body["day"], "usage_day.day")
    if record != record_id(day.isoformat()):
        raise DecodeError(f"a usage_day record for {day} must have the id {record_id(day.isoformat())!r}")
    for name in TOP_COUNTS:
        _count(body[name], name)
    opens = codec.require_map(body["area_opens"], "usage_day.area_opens")
    for code, n in opens.items():
        if code not in areas:
            raise DecodeError(f"usage_day.area_opens names {code!r}, which is not an area code")
        _count(n, f"area_opens.{code}")
    notices = codec.require_map(body["notices"], "usage_day.notices")
    if len(notices) > MAX_NOTICES:
        raise DecodeError(f"usage_day.notices lists more than {MAX_NOTICES} notices")
    for notice_id, n in notices.items():
        if not is_notice_id(notice_id):
            raise DecodeError("usage_day.notices is keyed by notice ids (UUIDs) only")
        _count(n, "notices[...]")
    for section, names in SECTIONS.items():
        m = codec.require_map(body[section], f"usage_day.{section}")
        _only(m, names, f"usage_day.{section}")
        for name in names:
            _count(m[name], f"{section}.{name}")

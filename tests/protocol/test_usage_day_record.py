"""A `usage_day` record is counts only: any field that could carry a device or household id is refused, by the
same check the edge runs before appending and the hub runs when it opens a batch (protocol/records.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from protocol.errors import DecodeError
from protocol.records import put, validate_op
from protocol.usage_day import record_id


def body(**changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "day": "2026-12-06", "tvs_active": 3, "households": 10, "notice_views": 4, "notice_viewers": 2,
        "area_opens": {"party": 1}, "notices": {str(uuid.uuid4()): 4},
        "live": {"peak": 1, "minutes": 30}, "recorded": {"peak": 0, "minutes": 0},
        "alerts": {"shown": 2, "acknowledged": 1, "ack_seconds": 12},
        "checkins": {"registered": 2, "checked_in": 2},
    }
    return {**good, **changes}


def test_a_record_of_counts_passes_as_it_is() -> None:
    op = put("usage_day", record_id("2026-12-06"), body())
    assert validate_op(op, "edge") is op


@pytest.mark.parametrize("changes, words", [
    ({"device_ids": ["stb-1"]}, "may not carry: device_ids"),
    ({"live": {"peak": 1, "minutes": 30, "device_id": "stb-1"}}, "may not carry: device_id"),
    ({"notices": {"stb-1": 3}}, r"notice ids \(UUIDs\) only"),
    ({"area_opens": {"household-7": 1}}, "not an area code"),
    ({"tvs_active": -1}, "whole number"),
    ({"tvs_active": True}, "whole number"),
    ({"households": "10"}, "whole number"),
    ({"day": "2026-02-30"}, "not a calendar date"),
    ({"checkins": {"registered": 2}}, "lacks checked_in"),
])
def test_anything_but_the_documented_counts_is_refused(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(DecodeError, match=words):
        validate_op(put("usage_day", record_id("2026-12-06"), body(**changes)), "edge")


def test_the_record_id_names_its_own_day_and_only_the_edge_may_send_one() -> None:
    with pytest.raises(DecodeError, match="must have the id 'usage-2026-12-06'"):
        validate_op(put("usage_day", "usage-2026-12-07", body()), "edge")
    with pytest.raises(Exception, match="belong to the edge"):
        validate_op(put("usage_day", record_id("2026-12-06"), body()), "hub")

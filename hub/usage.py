"""Keeping a village's `usage_day` records as they arrive in its up feed: one row per village and day, final.

protocol/usage_day.py has already checked the body's shape (counts only) when the batch was opened; here the
counts become columns, so statistics sum them in SQL instead of reading JSON at request time.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from protocol.records import AREAS

from .store_tx import Tx

log = logging.getLogger(__name__)


def usage_counts(body: dict[str, Any]) -> dict[str, int]:
    """The record's counts under the column names of hub/store_usage.py."""
    return {
        "tvs_active": body["tvs_active"],
        "households": body["households"],
        "notice_views": body["notice_views"],
        "notice_viewers": body["notice_viewers"],
        "live_peak": body["live"]["peak"],
        "live_minutes": body["live"]["minutes"],
        "recorded_peak": body["recorded"]["peak"],
        "recorded_minutes": body["recorded"]["minutes"],
        "alerts_shown": body["alerts"]["shown"],
        "alerts_acknowledged": body["alerts"]["acknowledged"],
        "ack_seconds": body["alerts"]["ack_seconds"],
        "checkins_registered": body["checkins"]["registered"],
        "checkins_done": body["checkins"]["checked_in"],
        **{f"opens_{area}": body["area_opens"].get(area, 0) for area in AREAS},
    }


async def keep_usage_day(tx: Tx, village_id: str, op: dict[str, Any]) -> None:
    """Store a put of a usage day; a second record for a day already held changes nothing (the first is final)."""
    if op["op"] != "put":
        return  # a day's record is final: a delete of it changes nothing here
    body = op["body"]
    fresh = await tx.insert_usage_day(village_id, body["day"], usage_counts(body),
                                      json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    if fresh:
        await tx.insert_notice_views(village_id, body["day"], body["notices"])
    else:
        log.warning("village %s sent its usage of %s again; the first record stands", village_id, body["day"])

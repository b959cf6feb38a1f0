"""The staff inbox: the village's submissions newest first, filtered by kind and state, and one in detail.

A submission's state for staff: queued (not at the hub yet), delivered, handed (to the town), answered.
"""

from __future__ import annotations

import json
from typing import Any

from edge.feeds.positions import acked_up_to
from protocol.database import Database
from protocol.records import SUBMISSION_KINDS

STATES = ("queued", "delivered", "handed", "answered")
PAGE = 200

_VIEW = """
WITH v AS (
  SELECT s.id, s.kind, s.device_id, s.body, s.created_at, h.name AS household,
    ho.at AS handed_at, ho.by_name AS handed_by,
    CASE
      WHEN EXISTS (SELECT 1 FROM replies r WHERE r.submission_id = s.id) THEN 'answered'
      WHEN ho.submission_id IS NOT NULL THEN 'handed'
      WHEN s.up_seq <= ?4 THEN 'delivered'  -- ?4: acknowledged up to (edge/feeds/positions.py)
      ELSE 'queued'
    END AS state
  FROM submissions s
  LEFT JOIN submission_handovers ho ON ho.submission_id = s.id
  LEFT JOIN submission_households sh ON sh.submission_id = s.id
  LEFT JOIN households h ON h.id = sh.household_id
)
"""


def parse_filters(query: dict[str, str]) -> tuple[str | None, str | None]:
    """Unknown filter values are ignored rather than refused: a stale bookmark still shows the inbox."""
    kind = query.get("kind") or None
    state = query.get("state") or None
    return (kind if kind in SUBMISSION_KINDS else None, state if state in STATES else None)


def _summary(body: dict[str, Any]) -> str:
    for name in ("text", "service", "category", "status", "question_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value[:120]
    if "choice" in body:
        return f"#{body['choice']}"
    if "score" in body:
        return f"{body['score']}/5"
    return ""


async def list_inbox(db: Database, kind: str | None = None, state: str | None = None,
                     limit: int = PAGE) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        _VIEW + "SELECT * FROM v WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR state = ?2)"
        " ORDER BY created_at DESC, id LIMIT ?3",
        (kind, state, limit, await acked_up_to(db)),
    )
    out = []
    for r in rows:
        body = json.loads(r["body"])
        out.append({**dict(r), "body": body, "summary": _summary(body)})
    return out


async def submission_detail(db: Database, submission_id: str) -> dict[str, Any] | None:
    rows = await db.fetchall(_VIEW + "SELECT * FROM v WHERE id = ?1", (submission_id, None, None, await acked_up_to(db)))
    if not rows:
        return None
    replies = await db.fetchall(
        "SELECT r.text, r.by_name, r.at, CASE WHEN l.id IS NULL THEN 'city' ELSE 'village' END AS source"
        " FROM replies r LEFT JOIN local_replies l ON l.id = r.id WHERE r.submission_id = ? ORDER BY r.at",
        (submission_id,),
    )
    detail = dict(rows[0])
    detail["body"] = json.loads(detail["body"])
    detail["summary"] = _summary(detail["body"])
    detail["replies"] = [dict(r) for r in replies]
    return detail

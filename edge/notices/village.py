"""Notices village staff publish for their own village: shown on its TVs at once, sent up for the record.

They are `village_notice` records owned by the edge, scoped `village:<this village>` and nothing wider: the
line to other villages goes through the hub, which keeps them but never sends them down anywhere.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.feeds.up_append import append_up_op
from edge.residents.outbox import now_rfc3339
from protocol.database import Database
from protocol.records import AREAS, PRIORITIES, delete, put

MAX_TITLE = 100
MAX_BODY = 5000
MAX_DAYS = 365


def parse_notice_form(form: dict[str, str]) -> dict[str, Any]:
    """The notice fields from a staff form, or ValueError with a sentence saying what to fix."""
    title = (form.get("title") or "").strip()
    body = (form.get("body") or "").strip()
    if not title or not body:
        raise ValueError("标题和内容都要填写。Please fill in both the title and the text.")
    if len(title) > MAX_TITLE:
        raise ValueError(f"标题不能超过 {MAX_TITLE} 个字。The title is longer than {MAX_TITLE} characters.")
    if len(body) > MAX_BODY:
        raise ValueError(f"内容不能超过 {MAX_BODY} 个字。The text is longer than {MAX_BODY} characters.")
    area = form.get("area") or "community"
    priority = form.get("priority") or "normal"
    if area not in AREAS or priority not in PRIORITIES:
        raise ValueError("请从列表里选择栏目和紧急程度。Please pick the area and priority from the lists.")
    days_raw = (form.get("days") or "").strip()
    expires_at = None
    if days_raw:
        if not days_raw.isdigit() or not 1 <= int(days_raw) <= MAX_DAYS:
            raise ValueError(f"有效天数请填 1 到 {MAX_DAYS} 之间的整数，或留空表示一直有效。Days must be 1-{MAX_DAYS}.")
        expires_at = (datetime.now(UTC) + timedelta(days=int(days_raw))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"title": title, "body": body, "area": area, "priority": priority, "expires_at": expires_at}


async def publish_village_notice(db: Database, village_id: str, fields: dict[str, Any], staff: str) -> str:
    notice_id = str(uuid.uuid4())
    body = {**fields, "scope": f"village:{village_id}", "published_at": now_rfc3339(), "by": staff}
    async with db.write() as conn:
        seq = await append_up_op(conn, village_id, put("village_notice", notice_id, body))
        await conn.execute(
            "INSERT INTO village_notices (id, title, body, area, priority, scope, published_at, expires_at, by_name,"
            " up_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (notice_id, body["title"], body["body"], body["area"], body["priority"], body["scope"],
             body["published_at"], body["expires_at"], staff, seq),
        )
    return notice_id


async def withdraw_village_notice(db: Database, village_id: str, notice_id: str) -> bool:
    """Take a notice off the TVs and tell the hub; False if there was no such live notice."""
    async with db.write() as conn:
        async with conn.execute(
            "SELECT 1 FROM village_notices WHERE id = ? AND withdrawn = 0", (notice_id,)
        ) as cur:
            if await cur.fetchone() is None:
                return False
        await append_up_op(conn, village_id, delete("village_notice", notice_id))
        await conn.execute("UPDATE village_notices SET withdrawn = 1 WHERE id = ?", (notice_id,))
    return True


async def list_village_notices(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT id, title, body, area, priority, published_at, expires_at, by_name, withdrawn"
        " FROM village_notices ORDER BY published_at DESC LIMIT ?",
        (limit,),
    )
    return [dict(r) for r in rows]

"""Which streams a village's TVs can watch: live broadcasts the hub relays here, and the village's own meetings.

Broadcasts arrive as hub-owned `stream` records in the down feed; meetings are scheduled on this box.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from protocol.database import Database
from protocol.records import AREAS

from .names import is_stream_id


async def apply_stream_op(conn: aiosqlite.Connection, op: dict[str, Any]) -> None:
    """Inside the down-feed transaction: a put announces or changes a broadcast, a delete ends it."""
    rid, body = op["id"], op["body"]
    if op["op"] == "delete" or not is_stream_id(rid):
        await conn.execute("DELETE FROM streams WHERE id = ?", (rid,))
        return
    area = body.get("area") if body.get("area") in AREAS else "live"
    await conn.execute(
        "INSERT OR REPLACE INTO streams (id, title, area, body) VALUES (?, ?, ?, ?)",
        (rid, str(body.get("title", ""))[:200], area, json.dumps(body, ensure_ascii=False, default=str)),
    )


async def is_broadcast(db: Database, stream_id: str) -> bool:
    return await db.fetchone("SELECT 1 FROM streams WHERE id = ?", (stream_id,)) is not None


async def list_streams(db: Database, viewers: dict[str, int]) -> list[dict[str, Any]]:
    """What the TV app lists: live broadcasts, live and upcoming meetings, then recordings, newest first."""
    out: list[dict[str, Any]] = []
    for r in await db.fetchall("SELECT id, title, area FROM streams ORDER BY id"):
        out.append({"id": r["id"], "title": r["title"], "area": r["area"], "kind": "broadcast", "state": "live",
                    "url": f"/streams/{r['id']}/index.m3u8", "viewers": viewers.get(r["id"], 0)})
    rows = await db.fetchall(
        "SELECT id, title, agenda, state, scheduled_at, started_at, ended_at, duration_s, recording_sha256"
        " FROM meetings ORDER BY CASE state WHEN 'live' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END,"
        " COALESCE(ended_at, scheduled_at) DESC LIMIT 1000"
    )
    for r in rows:
        playable = r["state"] == "live" or (r["state"] == "ended" and r["recording_sha256"] is not None)
        out.append({
            "id": r["id"], "title": r["title"], "agenda": r["agenda"], "area": "meetings", "kind": "meeting",
            "state": r["state"], "recorded": r["state"] == "ended" and r["recording_sha256"] is not None,
            "duration_s": r["duration_s"], "url": f"/streams/{r['id']}/index.m3u8" if playable else None,
            "viewers": viewers.get(r["id"], 0),
        })
    return out

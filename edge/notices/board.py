"""The notices a village's TVs and phones see: applied from the down feed, newest first, expired ones left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from protocol.database import Database


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def list_notices(db: Database, area: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    # Notices from the hub, and the village's own from the staff page (edge/notices/village.py).
    sql = (
        "SELECT * FROM (SELECT id, title, body, area, priority, scope, published_at, expires_at, attachments"
        " FROM notices UNION ALL SELECT id, title, body, area, priority, scope, published_at, expires_at, '[]'"
        " FROM village_notices WHERE withdrawn = 0)"
    )
    params: list[Any] = []
    if area:
        sql += " WHERE area = ?"
        params.append(area)
    sql += " ORDER BY published_at DESC, id"
    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for row in await db.fetchall(sql, params):
        expires = _parse_time(row["expires_at"])
        if expires is not None and expires <= now:
            continue
        out.append(
            {
                "id": row["id"],
                "title": row["title"],
                "body": row["body"],
                "area": row["area"],
                "priority": row["priority"],
                "published_at": row["published_at"],
                "expires_at": row["expires_at"],
                "attachments": [
                    {**a, "url": f"/content/{a['sha256']}"} for a in json.loads(row["attachments"])
                ],
            }
        )
        if len(out) >= limit:
            break
    return out


async def emergency_attachments(db: Database) -> set[str]:
    """The blobs that emergency notices name: fetched first, before any backlog, and never evicted."""
    rows = await db.fetchall(
        "SELECT DISTINCT json_extract(j.value, '$.sha256') AS sha256 FROM notices n, json_each(n.attachments) j"
        " WHERE n.priority = 'emergency'"
    )
    return {str(r["sha256"]) for r in rows if r["sha256"]}


async def attachment_named(db: Database, sha256: str) -> dict[str, Any] | None:
    """The attachment reference ({sha256, size, mime, ...}) of a notice that names this blob, if one does."""
    row = await db.fetchone("SELECT attachments FROM notices WHERE attachments LIKE ? LIMIT 1", (f'%"{sha256}"%',))
    if row is None:
        return None
    ref = next((a for a in json.loads(row["attachments"]) if a.get("sha256") == sha256), None)
    return ref if isinstance(ref, dict) else None

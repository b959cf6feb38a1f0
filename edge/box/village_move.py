"""Moving a box to another village (a bundle with the move flag): nothing unsent is lost, nothing old is mixed in.

A move is refused while the old village's submissions have not reached the city. Once applied, the running edge
stops so its supervisor (systemd, Restart=always) starts it again; at that start the old village's database and
content are put aside in `archive/`, and the box syncs as the new village from an empty store.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import time
from pathlib import Path

from edge.feeds.positions import unacked_in_file
from protocol.database import Database

log = logging.getLogger(__name__)

DB_NAME = "edge.db"


def unsent_submissions(data_dir: Path) -> int:
    """Up-feed entries the hub has not acknowledged (0 for a box without a database yet)."""
    return unacked_in_file(data_dir / DB_NAME)


def _village_of_database(path: Path) -> str | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
        try:
            row = conn.execute("SELECT village_id FROM box_village WHERE id = 1").fetchone()
        except sqlite3.OperationalError:
            return None
    return str(row[0]) if row and row[0] else None


def archive_if_moved(data_dir: Path, village_id: str | None) -> Path | None:
    """Before the database opens: if it belongs to another village, move it and the content aside."""
    db = data_dir / DB_NAME
    if village_id is None or not db.exists():
        return None
    old = _village_of_database(db)
    if old is None or old == village_id:
        return None
    archive = data_dir / "archive" / f"{old}-{time.strftime('%Y%m%dT%H%M%S')}"
    archive.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        part = data_dir / f"{DB_NAME}{suffix}"
        if part.exists():
            part.rename(archive / part.name)
    if (data_dir / "content").exists():
        (data_dir / "content").rename(archive / "content")
    log.warning("this box moved from village %s to %s; the old data is kept in %s", old, village_id, archive)
    return archive


async def record_village(db: Database, village_id: str) -> None:
    """Mark which village the open database belongs to, so a later bundle for another village is noticed."""
    async with db.write() as conn:
        await conn.execute("INSERT OR REPLACE INTO box_village (id, village_id) VALUES (1, ?)", (village_id,))


def stop_for_restart(old: str, new: str) -> None:
    """Ask this process to stop cleanly; the supervisor starts it again as the new village's edge."""
    log.warning("village changed from %s to %s: stopping so the box restarts as %s", old, new, new)
    os.kill(os.getpid(), signal.SIGTERM)

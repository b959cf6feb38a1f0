"""The alert board on a real SQLite file: an emergency shown ahead of its turn (the down position unmoved) still
wakes waiting TV pages, acknowledgements are per device, and closing the board lets every waiter go at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from edge.notices.alerts import AlertBoard, acknowledge, alert_log, note_shown, pending_alerts
from edge.schema import SCHEMA
from protocol.database import Database


async def _notice(db: Database, nid: str, priority: str) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT OR REPLACE INTO notices (id, title, body, area, priority, scope, published_at, expires_at,"
            " attachments) VALUES (?, '山洪预警', '请转移', 'safety', ?, 'city', '2026-01-01T00:00:00Z', NULL, ?)",
            (nid, priority, json.dumps([])))


async def test_an_emergency_shown_ahead_of_its_turn_wakes_waiting_pages_and_is_acknowledged_per_device(tmp_path: Path):
    db = Database(tmp_path / "edge.db")
    await db.open(SCHEMA)
    board = AlertBoard(db, check_s=0.05, max_streams=10)
    task = asyncio.create_task(board.run())
    try:
        start = await board.wait_change(0, 2.0)
        assert start >= 1
        await _notice(db, "n-urgent", "emergency")  # as apply_ahead does: no feed position moves
        assert await board.wait_change(start, 2.0) > start
        assert [a["id"] for a in await pending_alerts(db, "stb-1")] == ["n-urgent"]

        assert await note_shown(db, "stb-1", "n-urgent") and await acknowledge(db, "stb-1", "n-urgent")
        assert await acknowledge(db, "stb-1", "n-urgent")  # a repeated OK keeps the first time
        assert await pending_alerts(db, "stb-1") == []
        assert [a["id"] for a in await pending_alerts(db, "stb-2")] == ["n-urgent"]
        log = await alert_log(db, "n-urgent")
        assert [r["device_id"] for r in log] == ["stb-1"] and log[0]["acked_at"]

        await _notice(db, "n-normal", "normal")
        assert not await acknowledge(db, "stb-1", "n-normal") and not await note_shown(db, "stb-1", "nothing")

        waiter = asyncio.create_task(board.wait_change(board.version, 30.0))
        await asyncio.sleep(0.1)
        await board.close()
        await asyncio.wait_for(waiter, 1.0)  # shutdown does not wait for held long polls
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await db.close()

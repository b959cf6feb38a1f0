"""Sending meeting recordings to the hub at low priority: after the up feed, rate-capped, resumable.

The hub says how much it holds; each request carries the next chunk at that offset, signed like every sync
request. A cut line only costs the chunk in flight; the hub verifies the whole file by its SHA-256.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp

from edge.feeds.positions import up_backlog
from edge.sync.hub_client import HubRefused
from protocol.backoff import Backoff

from .meetings import RECORDING_NAME, meeting_dir
from .service import StreamsService

log = logging.getLogger(__name__)
IDLE_RECHECK_S = 30.0


async def _up_feed_drained(service: StreamsService) -> bool:
    """Submissions and records go first: recordings wait while the hub has not acknowledged the up feed."""
    return (await up_backlog(service.db)).pending == 0


async def run_uploads(service: StreamsService) -> None:
    backoff = Backoff(service.config.backoff_base_s, service.config.backoff_max_s)
    while True:
        state = service.holder.current
        pending = await service.db.fetchall(
            "SELECT id, recording_sha256, recording_size FROM meetings WHERE state = 'ended'"
            " AND recording_sha256 IS NOT NULL AND uploaded_at IS NULL ORDER BY ended_at"
        )
        if not pending:
            await _wait(service.upload_wanted, IDLE_RECHECK_S)
            continue
        if state is None or not state.enrolled:
            await _wait(service.upload_wanted, service.config.backoff_max_s)  # the line may come back any time
            continue
        if not await _up_feed_drained(service):
            await _wait(service.upload_wanted, 1.0)
            continue
        row = pending[0]
        try:
            await upload_recording(service, row["id"], row["recording_sha256"], row["recording_size"])
            backoff.reset()
        except (aiohttp.ClientError, TimeoutError, OSError, HubRefused, ValueError) as exc:
            delay = backoff.next_delay()
            log.warning("recording %s upload paused (%s); next try in %.1f s", row["id"], exc, delay)
            await _wait(service.upload_wanted, delay)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    event.clear()


async def _call(service: StreamsService, method: str, path_qs: str, body: bytes = b"") -> dict[str, Any]:
    client = service.hub_client()
    if client is None:
        raise HubRefused(503, {"error": "no_line", "detail": "the sync has no session to the hub yet"})
    return await client.call_json(method, path_qs, body)


async def upload_recording(service: StreamsService, meeting_id: str, sha256: str, size: int) -> None:
    """Send what the hub is missing of one recording, chunk by chunk, then mark it uploaded."""
    path = f"/api/v1/recordings/{service.village_id}/{meeting_id}"
    query = f"size={size}&sha256={sha256}"
    status = await _call(service, "GET", f"{path}?{query}")
    received = int(status.get("received", 0))
    file = meeting_dir(service, meeting_id) / RECORDING_NAME
    chunk_size = service.config.recording_chunk_bytes
    rate = service.config.recording_upload_max_bytes_s
    while not status.get("complete"):
        if received > size:
            raise ValueError(f"hub claims {received} bytes of a {size}-byte recording")
        chunk = await asyncio.to_thread(_read_at, file, received, chunk_size)
        started = time.monotonic()
        try:
            status = await _call(service, "PUT", f"{path}?offset={received}&{query}", chunk)
        except HubRefused as exc:
            if exc.status == 409 and isinstance(exc.body.get("received"), int):
                received = exc.body["received"]  # the hub holds another amount: resume from there
                continue
            raise
        received = int(status.get("received", received + len(chunk)))
        if rate > 0:
            # Low priority on a slow line: never more than `rate` bytes a second, whatever the line could take.
            await asyncio.sleep(max(0.0, len(chunk) / rate - (time.monotonic() - started)))
    async with service.db.write() as conn:
        await conn.execute("UPDATE meetings SET uploaded_at = ? WHERE id = ?", (time.time(), meeting_id))
    log.info("recording %s (%d bytes) is at the hub, hash verified", meeting_id, size)


def _read_at(path: Path, offset: int, n: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(n)

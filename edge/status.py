"""The edge's status document, signed with its node key, which the hub pulls on a schedule."""

from __future__ import annotations

import time
from typing import Any

from edge.residents.outbox import queue_depth
from protocol.envelope import seal

from .runtime import EdgeRuntime
from .usb.activity import usb_status

VERSION = "0.1.0"


async def status_body(rt: EdgeRuntime) -> dict[str, Any]:
    state = rt.holder.current
    db = rt.db
    up_seq = int(await db.fetchvalue("SELECT COALESCE(MAX(seq), 0) FROM up_entries", default=0))
    up_bytes_pending = int(
        await db.fetchvalue(
            "SELECT COALESCE(SUM(size), 0) FROM up_entries WHERE seq >"
            " COALESCE((SELECT seq FROM feed_positions WHERE name = 'up_acked'), 0)",
            default=0,
        )
    )
    acked = int(await db.fetchvalue("SELECT seq FROM feed_positions WHERE name = 'up_acked'", default=0))
    down = int(await db.fetchvalue("SELECT seq FROM feed_positions WHERE name = 'down'", default=0))
    last_sync = await db.fetchvalue("SELECT value FROM sync_health WHERE name = 'last_sync_at'")
    blobs_missing, blob_bytes_missing = await rt.content.backlog()
    down_tail = int(await db.fetchvalue("SELECT value FROM sync_health WHERE name = 'down_tail'", default=0) or 0)
    down_bytes = int(await db.fetchvalue("SELECT value FROM sync_health WHERE name = 'down_tail_bytes'",
                                         default=0) or 0)
    health = rt.sync.health
    return {
        "node_id": rt.holder.key.node_id,
        "village_id": state.village_id if state else None,
        "village_name": state.village_name if state else None,
        "version": VERSION,
        "time": int(time.time()),
        "started_at": int(rt.started_at),
        "provisioned": state is not None,
        "enrolled": bool(state and state.enrolled),
        "hub_root_fingerprint": state.root_fingerprint if state else None,
        "stb_count": rt.devices.count_alive(),
        "queue_depth": await queue_depth(db),
        "up": {"seq": up_seq, "acked": acked, "pending_bytes": up_bytes_pending},
        "down": {"seq": down, "blobs_missing": blobs_missing},
        "last_sync_at": int(float(last_sync)) if last_sync else None,
        "last_sync_error": health.last_error,
        "sync_phase": health.phase,
        "sync": {
            # What the sync is doing, in the order it does it: records first, then blobs.
            "phase": _phase(health.key_revoked, health.last_error, up_seq - acked, max(0, down_tail - down),
                            blobs_missing),
            "loop": health.phase,
            "last_success_at": int(health.last_success_at) if health.last_success_at else None,
            "last_error": health.last_error,
            "last_error_at": int(health.last_error_at) if health.last_error_at else None,
            "hub_time": rt.sync.clock.freshest or None,  # the freshest signed hub time seen (freeze defence)
            "hub_stale": rt.sync.clock.stale,
            "key_revoked": health.key_revoked,
            "backlog": {
                "up_records": up_seq - acked,
                "up_bytes": up_bytes_pending,
                "down_records": max(0, down_tail - down),
                "down_bytes": down_bytes if down_tail > down else 0,
                "blobs": blobs_missing,
                "blob_bytes": blob_bytes_missing,
            },
        },
        "streams": {"viewers": rt.streams.viewers.counts() if rt.streams else {}},
        "usb": usb_status(rt.config.data_dir),
    }


def _phase(revoked: bool, error: str | None, up_records: int, down_records: int, blobs: int) -> str:
    if revoked:
        return "revoked"
    if error:
        return "retrying"
    if up_records or down_records:
        return "records"
    return "blobs" if blobs else "idle"


def sign_status(rt: EdgeRuntime, body: dict[str, Any]) -> bytes:
    return seal(rt.holder.key, "status", body)

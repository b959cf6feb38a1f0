"""The edge's status document, signed with its node key, which the hub pulls on a schedule."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from edge.feeds.positions import down_applied, up_backlog
from edge.residents.outbox import queue_depth
from edge.sync import health as sync_health
from edge.updates.state import load_state as load_update_state
from edge.updates.stb_status import read_results, stb_versions
from edge.updates.version import running_version
from protocol.envelope import seal

from .runtime import EdgeRuntime
from .usb.activity import usb_status

VERSION = running_version()  # the slot this process runs from (edge/updates/)


async def status_body(rt: EdgeRuntime) -> dict[str, Any]:
    state = rt.holder.current
    db = rt.db
    backlog = await up_backlog(db)
    up_seq, acked = backlog.head, backlog.acked
    down = await down_applied(db)
    last_sync = await sync_health.last_sync_at(db)
    blobs_missing, blob_bytes_missing = await rt.content.backlog()
    tail = await sync_health.down_tail(db)
    down_tail, down_bytes = tail.seq, tail.bytes
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
        "up": {"seq": up_seq, "acked": acked, "pending_bytes": backlog.pending_bytes},
        "down": {"seq": down, "blobs_missing": blobs_missing},
        "last_sync_at": last_sync,
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
                "up_bytes": backlog.pending_bytes,
                "down_records": max(0, down_tail - down),
                "down_bytes": down_bytes if down_tail > down else 0,
                "blobs": blobs_missing,
                "blob_bytes": blob_bytes_missing,
            },
        },
        "streams": {"viewers": rt.streams.viewers.counts() if rt.streams else {}},
        "usb": usb_status(rt.config.data_dir),
        "update": (await asyncio.to_thread(load_update_state, rt.config.data_dir)).public(VERSION),
        # Set-top boxes per model: the `fw` each advertises, the release offered, how many run it (docs/updates.md).
        "stb": await stb_versions(rt, await asyncio.to_thread(read_results, rt.config.data_dir)),
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

"""What the staff dashboard shows: the line to the hub, the STBs on the LAN, storage, version, last USB work.

Read from the running edge (sync health, device table, status body); nothing here writes.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from edge.residents.households import household_names_by_device

from ..runtime import EdgeRuntime
from ..status import VERSION, status_body
from ..usb.activity import last_operation as last_usb_operation

MAX_LISTED_STBS = 500


def line_online(rt: EdgeRuntime) -> bool:
    """Online when the last push or the last pull reached the hub (the other two loops need no line)."""
    loops = rt.sync.health.by_loop
    return "ok" in (loops.get("push"), loops.get("pull"))


def _storage(rt: EdgeRuntime) -> dict[str, int]:
    try:
        usage = shutil.disk_usage(rt.config.data_dir)
    except OSError:
        return {"total": 0, "free": 0}
    return {"total": usage.total, "free": usage.free}


async def dashboard_data(rt: EdgeRuntime) -> dict[str, Any]:
    status = await status_body(rt)
    content_bytes = await rt.content.present_bytes()
    alive = sorted(rt.devices.alive(), key=lambda d: (d.model, d.device_id))
    now = time.time()
    paired = await household_names_by_device(rt.db)
    return {
        "line": {
            "online": line_online(rt),
            "enrolled": status["enrolled"],
            "last_sync_at": status["last_sync_at"],
            "last_error": status["last_sync_error"],
            "up_pending": status["up"]["seq"] - status["up"]["acked"],
            "up_pending_bytes": status["up"]["pending_bytes"],
            "queue_depth": status["queue_depth"],
            "down_seq": status["down"]["seq"],
            "blobs_missing": status["down"]["blobs_missing"],
        },
        "stb_count": status["stb_count"],
        "stbs": [
            {
                "device_id": d.device_id,
                "model": d.model or "—",
                "firmware": d.firmware or "—",
                "address": d.address,
                "last_seen_s": max(0, int(now - d.last_seen)),
                "household": paired.get(d.device_id),
            }
            for d in alive[:MAX_LISTED_STBS]
        ],
        "storage": {**_storage(rt), "content": content_bytes},
        "version": VERSION,
        "village_id": status["village_id"],
        "village_name": status["village_name"],
        "node_id": status["node_id"],
        "usb": last_usb_operation(rt.config.data_dir),
        "time": int(now),
    }
